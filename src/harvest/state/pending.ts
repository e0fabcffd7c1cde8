/**
 * The pending journal (`<state>/harvest/pending.json`): series directories to (re)write and
 * old ones to remove, written before the seen-store and cleared once harvest.json is written.
 * A run that dies in between leaves it behind, and the next run finishes that work first.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from '../../core/errors.js';
import { writeJsonAtomic } from '../../core/fsutil.js';
import { harvestStateDir } from './seen-store.js';

export interface Pending {
  /** Series keys whose directory must be written. */
  series: string[];
  /** Series directories (relative to the state dir) that must go. */
  remove: string[];
}

function pendingPath(stateDir: string): string {
  return join(harvestStateDir(stateDir), 'pending.json');
}

export function readPending(stateDir: string): Pending {
  try {
    return JSON.parse(readFileSync(pendingPath(stateDir), 'utf8')) as Pending;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return { series: [], remove: [] };
    throw err;
  }
}

export function writePending(stateDir: string, pending: Pending): void {
  writeJsonAtomic(pendingPath(stateDir), pending);
}

export function clearPending(stateDir: string): void {
  rmSync(pendingPath(stateDir), { force: true });
}
