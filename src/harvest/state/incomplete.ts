/**
 * `<state>/harvest/incomplete.json`: the incomplete series as the last full run reported them.
 * A run that finds no new mail reports these without loading the seen-store (the < 0.5 s path).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from '../../core/errors.js';
import { writeJsonAtomic } from '../../core/fsutil.js';
import type { SeriesResult } from '../types.js';
import { harvestStateDir } from './seen-store.js';

function incompletePath(stateDir: string): string {
  return join(harvestStateDir(stateDir), 'incomplete.json');
}

/** undefined when there is no usable cache (first run, or unreadable): the caller takes the full path. */
export function readIncomplete(stateDir: string): SeriesResult[] | undefined {
  try {
    return JSON.parse(readFileSync(incompletePath(stateDir), 'utf8')) as SeriesResult[];
  } catch (err) {
    if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

export function writeIncomplete(stateDir: string, series: SeriesResult[]): void {
  writeJsonAtomic(incompletePath(stateDir), series);
}
