import type { LoadedConfig } from '../core/config.js';
import { PatchlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export interface ScanSummary {
  /** One line per item scanned: what happened. */
  items: Array<{ repo: string; branch: string; outcome: 'reviewed' | 'up to date' | 'failed' | 'disabled' | 'busy'; reviewId?: string; message?: string }>;
}

/** `patchline track scan`: every enabled item (or the one given) once. */
export async function scanTracking(loaded: LoadedConfig, opts: { log: Logger; item?: { repo: string; branch: string } }): Promise<ScanSummary> {
  throw new PatchlineError('EINTERNAL', `tracking scan is not built yet (${loaded.file}, ${String(opts.item?.repo)})`);
}
