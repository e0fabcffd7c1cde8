/**
 * The seen-store: every message ever harvested, keyed by Message-ID (or content hash), in
 * `<state>/harvest/seen.json`, plus the originals of patches and covers in pack files under
 * `<state>/harvest/mail/`. Series and the archive are rebuilt from it, so it is the truth.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { isErrno, PatchlineError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/fsutil.js';
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
/** A fresh name in the scratch dir (renamed into place afterwards); the thread's id keeps the parse worker's names apart. */
export function scratchName(stateDir: string): string {
  scratchCounter += 1;
  return join(scratchDir(stateDir), `${process.pid}-${threadId}-${scratchCounter}`);
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
  // compact: it grows with every mail ever harvested, and only patchline reads it
  writeFileAtomic(join(harvestStateDir(stateDir), 'seen.json'), JSON.stringify({ format: FORMAT, messages }));
}

/** Where an original lives: a byte range of a pack file (relative to the state dir). */
export interface OriginalRef {
  pack: string;
  offset: number;
  length: number;
}

const FLUSH_BYTES = 8 * 1024 * 1024;

/**
 * The originals of patches and covers, appended to one pack file per run under
 * `<state>/harvest/mail/` (one write per 8 MiB instead of a file per message). The seen-store
 * points into it; a run that dies before saving the seen-store leaves an unreferenced pack.
 */
export class OriginalsPack {
  private readonly rel: string;
  private fd?: number;
  private size = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** This run's originals stay in memory: the archive is written from them. */
  private readonly mine = new Map<number, Buffer>();

  constructor(private readonly stateDir: string) {
    this.rel = join('harvest', 'mail', `${new Date().toISOString().replace(/[-:.]/g, '')}-${process.pid}.pack`);
  }

  add(raw: Buffer): OriginalRef {
    const ref = { pack: this.rel, offset: this.size, length: raw.length };
    this.mine.set(ref.offset, raw);
    this.pending.push(raw);
    this.pendingBytes += raw.length;
    this.size += raw.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    return ref;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    if (this.fd === undefined) {
      mkdirSync(join(this.stateDir, 'harvest', 'mail'), { recursive: true });
      this.fd = openSync(join(this.stateDir, this.rel), 'a');
    }
    writeSync(this.fd, Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Everything on disk (fsynced: the seen-store written next points into it). */
  close(): void {
    this.flush();
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  read(ref: OriginalRef): Buffer {
    if (ref.pack === this.rel) {
      const raw = this.mine.get(ref.offset);
      if (raw) return raw;
    }
    const path = join(this.stateDir, ref.pack);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const buf = Buffer.alloc(ref.length);
      if (readSync(fd, buf, 0, ref.length, ref.offset) !== ref.length) throw new Error('pack file is shorter than the seen-store says');
      return buf;
    } catch (err) {
      throw new PatchlineError('EMAIL', `cannot read a stored original: ${(err as Error).message}`, { input: `${ref.pack}@${ref.offset}` });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
