import { PatchlineError } from '../core/errors.js';
import type { TrackingBackend } from './types.js';

export interface RemoteOptions {
  /** Base URL of `patchline serve`, e.g. https://patchline.example.com:8443 */
  server: string;
  /** Basic-auth user for writes (else PATCHLINE_SERVER_USER). */
  user?: string;
  /** A file whose first line is the password (else PATCHLINE_SERVER_PASSWORD). Never a command-line password. */
  passwordFile?: string;
  /** A CA bundle to trust the server's certificate. */
  caFile?: string;
}

/** The track commands against a `patchline serve` (its REST API). */
export function remoteBackend(opts: RemoteOptions): TrackingBackend {
  throw new PatchlineError('EINTERNAL', `the tracking client is not built yet (${opts.server})`);
}
