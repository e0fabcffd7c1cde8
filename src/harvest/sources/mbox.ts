/** An mbox file. Cursor: file identity + byte offset, so a growing mbox is read from where it stopped. */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { PatchlineError } from '../../core/errors.js';
import { readMbox, type MboxFormat } from '../mail/mbox.js';
import { readCursor, writeCursor } from '../state/cursors.js';
import type { MailSource, SourceMessage } from './source.js';

interface MboxCursor {
  dev: number;
  ino: number;
  offset: number;
  count: number;
  /** sha256 of the 4 KiB before `offset`: a rewritten file with the same inode is read again. */
  tail: string;
}

function tailHash(buf: Buffer, offset: number): string {
  return createHash('sha256').update(buf.subarray(Math.max(0, offset - 4096), offset)).digest('hex');
}

export class MboxSource implements MailSource {
  readonly type = 'mbox' as const;
  private cursor?: MboxCursor;
  private next?: MboxCursor;
  private rescanned = false;
  private skipped = 0;

  constructor(
    readonly name: string,
    private readonly path: string,
    private readonly stateDir: string,
    /** mboxo (git am's default) unless the source says mboxrd. */
    private readonly format: MboxFormat = 'mboxo',
  ) {}

  private stat() {
    try {
      return statSync(this.path);
    } catch (err) {
      throw new PatchlineError('EMAIL', `cannot read mbox ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { input: this.name });
    }
  }

  /** No news only when it is the same file, of the same size, ending in the same bytes (a rewrite in place is news). */
  async hasNews(): Promise<boolean> {
    const st = this.stat();
    this.cursor = readCursor<MboxCursor>(this.stateDir, this.name);
    const c = this.cursor;
    if (!c || c.dev !== st.dev || c.ino !== st.ino || c.offset !== st.size) return true;
    const start = Math.max(0, c.offset - 4096);
    const tail = Buffer.alloc(c.offset - start);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, tail, 0, tail.length, start);
    } finally {
      closeSync(fd);
    }
    return tailHash(tail, tail.length) !== c.tail;
  }

  async *messages(): AsyncIterable<SourceMessage> {
    const st = this.stat();
    let buf: Buffer;
    try {
      buf = readFileSync(this.path);
    } catch (err) {
      throw new PatchlineError('EMAIL', `cannot read mbox ${this.path}: ${(err as Error).message}`, { input: this.name });
    }
    const c = this.cursor;
    const resume = c !== undefined && c.dev === st.dev && c.ino === st.ino && c.offset <= buf.length && c.tail === tailHash(buf, c.offset);
    this.rescanned = c !== undefined && !resume;
    const start = resume ? c.offset : 0;
    let count = resume ? c.count : 0;
    const { messages, skipped } = readMbox(buf.subarray(start), { format: this.format });
    this.skipped = skipped;
    for (const raw of messages) {
      count += 1;
      yield { raw, where: `${this.name}:#${count}` };
    }
    this.next = { dev: st.dev, ino: st.ino, offset: buf.length, count, tail: tailHash(buf, buf.length) };
  }

  commit(): void {
    if (this.next) writeCursor(this.stateDir, this.name, this.next);
  }

  async close(): Promise<void> {}

  describe() {
    return { ...(this.rescanned ? { rescanned: true } : {}), ...(this.skipped > 0 ? { skippedBytes: this.skipped } : {}) };
  }
}
