import { dirname, join } from 'node:path';
import { appendJsonLines, readJsonLines } from '../core/jsonl.js';
import { fsyncDir, writeFileAtomic } from '../core/fsutil.js';
import type { LedgerEntry } from './types.js';

/**
 * The ledger on disk, two JSON-lines files in `<state>/ledger/`:
 * - `series.jsonl`, the journal: one line per change of an entry (the whole entry as it is after
 *   the change); the last line of an id wins. Appends are fsynced before a step goes on, so a crash
 *   loses at most the change being written; a torn last line (a crash mid-write) is ignored, and
 *   cut off before the next append.
 * - `closed.jsonl`: entries that are closed (published and reported, or superseded), moved out
 *   of the journal when it is compacted. They are read only when asked for (`get` of an id the
 *   journal does not hold, `allWithClosed`), so a run on a ledger of many finished series reads
 *   only what is open.
 * Compaction appends the closed entries to closed.jsonl (fsynced), then rewrites the journal with
 * one line per open entry (temp file, fsync, rename). A crash between the two leaves an entry in
 * both files: the journal's line wins, and the next compaction moves it again.
 * docs/decisions/series-ledger.md has the measurements behind this layout.
 */
export const LEDGER_FILE = 'series.jsonl';
export const CLOSED_FILE = 'closed.jsonl';
/** Compact once the journal holds this many lines more than it has open entries. */
const COMPACT_SLACK = 2000;
/** ... or this many closed entries. */
const COMPACT_CLOSED = 200;

export function ledgerPath(stateDir: string): string {
  return join(stateDir, 'ledger', LEDGER_FILE);
}

/** Entries of a JSON-lines file, the last line of an id winning; a torn last line is ignored. */
function readLines(path: string): { entries: Map<string, LedgerEntry>; lines: number } {
  const entries = new Map<string, LedgerEntry>();
  const lines = readJsonLines<LedgerEntry>(path, 'the series ledger', (entry) => entries.set(entry.id, entry));
  return { entries, lines };
}

export class Ledger {
  readonly path: string;
  private readonly closedPath: string;
  /** The journal's entries (open ones, and closed ones not moved out yet). */
  private readonly entries: Map<string, LedgerEntry>;
  private closed: Map<string, LedgerEntry> | undefined;
  private lines: number;

  private constructor(path: string, entries: Map<string, LedgerEntry>, lines: number) {
    this.path = path;
    this.closedPath = join(dirname(path), CLOSED_FILE);
    this.entries = entries;
    this.lines = lines;
  }

  /** Read the journal (empty when the state dir has none yet). Reading never writes. */
  static open(stateDir: string): Ledger {
    const path = ledgerPath(stateDir);
    const { entries, lines } = readLines(path);
    return new Ledger(path, entries, lines);
  }

  /** Entries of the journal: every open entry (closed ones may be among them until compaction moves them). */
  get size(): number {
    return this.entries.size;
  }

  /** An entry, open or closed. */
  get(id: string): LedgerEntry | undefined {
    return this.entries.get(id) ?? this.closedEntries().get(id);
  }

  /** Every open entry (and closed ones not moved out yet: callers skip `closed` entries). */
  all(): IterableIterator<LedgerEntry> {
    return this.entries.values();
  }

  /** Every entry, the closed ones too (reads closed.jsonl). */
  *allWithClosed(): IterableIterator<LedgerEntry> {
    yield* this.entries.values();
    for (const [id, e] of this.closedEntries()) if (!this.entries.has(id)) yield e;
  }

  private closedEntries(): Map<string, LedgerEntry> {
    this.closed ??= readLines(this.closedPath).entries;
    return this.closed;
  }

  /**
   * Record changed entries durably: appended and fsynced before this returns. Callers pass
   * fresh objects (or the ones they got and changed): the in-memory view is updated too.
   */
  put(changed: readonly LedgerEntry[]): void {
    if (changed.length === 0) return;
    appendJsonLines(this.path, changed);
    for (const e of changed) this.entries.set(e.id, e);
    this.lines += changed.length;
    let closedHere = 0;
    for (const e of this.entries.values()) if (e.closed) closedHere++;
    if (closedHere >= COMPACT_CLOSED || this.lines - this.entries.size > COMPACT_SLACK) this.compact();
  }

  /** Move closed entries to closed.jsonl, then rewrite the journal with one line per open entry. */
  compact(): void {
    const closing = [...this.entries.values()].filter((e) => e.closed);
    if (closing.length > 0) appendJsonLines(this.closedPath, closing);
    if (this.closed) for (const e of closing) this.closed.set(e.id, e);
    for (const e of closing) this.entries.delete(e.id);
    writeFileAtomic(this.path, [...this.entries.values()].map((e) => JSON.stringify(e) + '\n').join(''));
    fsyncDir(dirname(this.path));
    this.lines = this.entries.size;
  }
}
