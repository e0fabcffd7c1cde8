import { PatchlineError } from '../core/errors.js';
import type { UpstreamStore } from './types.js';

/** The embedded build store in <state>/upstream/ (see docs/decisions/upstream-store.md). */
export function openUpstreamStore(stateDir: string): UpstreamStore {
  throw new PatchlineError('EINTERNAL', `the upstream store is not built yet (${stateDir})`);
}
