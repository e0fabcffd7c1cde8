/**
 * The seen-store: every message ever harvested, keyed by Message-ID (or content hash), in
 * `<state>/harvest/seen.json`, plus the originals of patches and covers under
 * `<state>/harvest/mail/`. Series and the archive are rebuilt from it, so it is the truth.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isErrno, PatchlineError } from '../../core/errors.js';
import { writeJsonAtomic } from '../../core/fsutil.js';
import type { MessageRecord } from './records.js';

const FORMAT = 1;

export function harvestStateDir(stateDir: string): string {
  return join(stateDir, 'harvest');
}

/** Scratch space on the same filesystem as the archive: emptied at the start of every run. */
export function scratchDir(stateDir: string): string {
  return join(harvestStateDir(stateDir), 'tmp');
}

export function resetScratch(stateDir: string): void {
  rmSync(scratchDir(stateDir), { recursive: true, force: true });
  mkdirSync(scratchDir(stateDir), { recursive: true });
}

let scratchCounter = 0;
/** A fresh name in the scratch dir (renamed into place afterwards). */
export function scratchName(stateDir: string): string {
  scratchCounter += 1;
  return join(scratchDir(stateDir), `${process.pid}-${scratchCounter}`);
}

/**
 * Write a file by rename from the scratch dir. No fsync: this guards against a killed process;
 * the seen-store file (fsynced) is what a power loss falls back on.
 */
export function writeByRename(stateDir: string, path: string, data: string | Buffer): void {
  const tmp = scratchName(stateDir);
  writeFileSync(tmp, data);
  mkdirSync(dirname(path), { recursive: true });
  renameSync(tmp, path);
}

export function loadSeen(stateDir: string): Map<string, MessageRecord> {
  const path = join(harvestStateDir(stateDir), 'seen.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return new Map();
    throw new PatchlineError('EMAIL', `cannot read the seen-store: ${(err as Error).message}`, { input: path });
  }
  let doc: { format: number; messages: MessageRecord[] };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (err) {
    throw new PatchlineError('EMAIL', `the seen-store is not valid JSON (${(err as Error).message}): restore it or remove ${harvestStateDir(stateDir)} to harvest everything again`, { input: path });
  }
  if (doc.format !== FORMAT) throw new PatchlineError('EMAIL', `the seen-store has format ${doc.format}, this patchline reads ${FORMAT}`, { input: path });
  return new Map(doc.messages.map((m) => [m.key, m]));
}

export function saveSeen(stateDir: string, records: Map<string, MessageRecord>): void {
  const messages = [...records.values()];
  writeJsonAtomic(join(harvestStateDir(stateDir), 'seen.json'), { format: FORMAT, messages });
}

/** Store the original of a message; returns its path relative to the state dir. */
export function storeOriginal(stateDir: string, key: string, raw: Buffer): string {
  const hash = createHash('sha256').update(key).digest('hex');
  const rel = join('harvest', 'mail', hash.slice(0, 2), `${hash}.eml`);
  writeByRename(stateDir, join(stateDir, rel), raw);
  return rel;
}

export function readOriginal(stateDir: string, rel: string): Buffer {
  try {
    return readFileSync(join(stateDir, rel));
  } catch (err) {
    throw new PatchlineError('EMAIL', `the stored original ${rel} is missing: ${(err as Error).message}`, { input: rel });
  }
}
