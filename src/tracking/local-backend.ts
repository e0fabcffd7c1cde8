import { PatchlineError } from '../core/errors.js';
import type { TrackingBackend } from './types.js';

/** The track commands on the local state dir (the items and reviews stores under <state>/tracking/). */
export function localBackend(stateDir: string): TrackingBackend {
  throw new PatchlineError('EINTERNAL', `tracking is not built yet (${stateDir})`);
}
