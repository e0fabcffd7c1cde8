import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { PatchlineError, isErrno } from './errors.js';
import { fsyncDir } from './fsutil.js';

/**
 * Crash-safe JSON-lines journals (the series ledger, the upstream build store): appends are
 * fsynced before they return; a torn last line (a crash mid-write) is ignored when read and cut
 * off before the next append.
 */

/** Call `onLine` for each complete, non-empty line of a file, in order; a missing file has none. */
export function readLines(path: string, what: string, onLine: (line: string, index: number) => void): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 0;
    throw new PatchlineError('ERESULT', `cannot read ${what}: ${(err as Error).message}`, { input: path });
  }
  let lines = 0;
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) break; // no newline: a torn last line, never acknowledged to anyone
    const line = text.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    onLine(line, lines);
    lines++;
  }
  return lines;
}

/**
 * Call `onValue` for each complete line of a JSON-lines file, in order; a missing file has none.
 * `what` names the file in errors ("the series ledger").
 */
export function readJsonLines<T>(path: string, what: string, onValue: (value: T) => void): number {
  return readLines(path, what, (line, index) => onValue(parseLine<T>(line, index, path, what)));
}

/** One JSON line, or an error naming the file and the line. */
export function parseLine<T>(line: string, index: number, path: string, what: string): T {
  try {
    return JSON.parse(line) as T;
  } catch (err) {
    throw new PatchlineError('ERESULT', `${what} is damaged at line ${index + 1}: ${(err as Error).message}`, { input: path });
  }
}

/** Append one JSON line per value, fsynced. */
export function appendJsonLines(path: string, values: readonly unknown[]): void {
  appendLines(path, values.map((v) => JSON.stringify(v)));
}

/** Append lines (each without its newline) and fsync them (the directory too when the file is new). */
export function appendLines(path: string, lines: readonly string[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a+');
  let created: boolean;
  try {
    created = fstatSync(fd).size === 0;
    dropTornTail(fd);
    writeSync(fd, lines.map((l) => l + '\n').join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) fsyncDir(dirname(path));
}

/** A crash mid-append can leave a last line without its newline: cut it off before appending after it. */
function dropTornTail(fd: number): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] === 0x0a) return;
  // search back for the last newline, in chunks
  const chunk = Buffer.alloc(64 * 1024);
  let pos = size;
  while (pos > 0) {
    const from = Math.max(0, pos - chunk.length);
    const n = readSync(fd, chunk, 0, pos - from, from);
    const i = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (i >= 0) {
      ftruncateSync(fd, from + i + 1);
      return;
    }
    pos = from;
  }
  ftruncateSync(fd, 0);
}
