import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno, PatchlineError } from '../../core/errors.js';
import { writeJsonAtomic } from '../../core/fsutil.js';

/** `<state>/cursors/<source>.json`: how far each mail source has been read. */
export function cursorPath(stateDir: string, source: string): string {
  return join(stateDir, 'cursors', `${source}.json`);
}

export function readCursor<T>(stateDir: string, source: string): T | undefined {
  const path = cursorPath(stateDir, source);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    // a cursor is only a speed-up: an unreadable one means "read everything again", dedupe does the rest
    if (err instanceof SyntaxError) return undefined;
    throw new PatchlineError('EMAIL', `cannot read the cursor of source ${source}: ${(err as Error).message}`, { input: path });
  }
}

export function writeCursor(stateDir: string, source: string, value: unknown): void {
  writeJsonAtomic(cursorPath(stateDir, source), value);
}
