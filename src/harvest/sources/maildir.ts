/** A Maildir (new/ and cur/), read in delivery order. Cursor: the unique names already read. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno, PatchlineError } from '../../core/errors.js';
import { readCursor, writeCursor } from '../state/cursors.js';
import type { MailSource, SourceMessage } from './source.js';

interface MaildirCursor {
  read: string[];
}

interface MaildirEntry {
  sub: 'new' | 'cur';
  file: string;
  /** The file name without the `:2,FLAGS` info: stable when a client moves new/ -> cur/. */
  unique: string;
}

/** Delivery order: the leading seconds, then the microseconds of `M<usec>`, then the name. */
function deliveryOrder(a: MaildirEntry, b: MaildirEntry): number {
  const key = (e: MaildirEntry): [number, number] => {
    const m = /^(\d+)\.(?:[^.]*?M(\d+))?/.exec(e.unique);
    return [m ? Number(m[1]) : Number.MAX_SAFE_INTEGER, m?.[2] ? Number(m[2]) : 0];
  };
  const [as, au] = key(a);
  const [bs, bu] = key(b);
  return as - bs || au - bu || (a.unique < b.unique ? -1 : a.unique > b.unique ? 1 : 0);
}

export class MaildirSource implements MailSource {
  readonly type = 'maildir' as const;
  private read = new Set<string>();
  private entries: MaildirEntry[] = [];

  constructor(
    readonly name: string,
    private readonly path: string,
    private readonly stateDir: string,
  ) {}

  private list(): MaildirEntry[] {
    const entries: MaildirEntry[] = [];
    let found = false;
    for (const sub of ['new', 'cur'] as const) {
      let files: string[];
      try {
        files = readdirSync(join(this.path, sub));
        found = true;
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw new PatchlineError('EMAIL', `cannot list Maildir ${join(this.path, sub)}: ${(err as Error).message}`, { input: this.name });
      }
      for (const file of files) if (!file.startsWith('.')) entries.push({ sub, file, unique: file.split(':')[0]! });
    }
    if (!found) throw new PatchlineError('EMAIL', `not a Maildir (no new/ or cur/): ${this.path}`, { input: this.name });
    return entries.sort(deliveryOrder);
  }

  async hasNews(): Promise<boolean> {
    this.read = new Set(readCursor<MaildirCursor>(this.stateDir, this.name)?.read ?? []);
    this.entries = this.list().filter((e) => !this.read.has(e.unique));
    return this.entries.length > 0;
  }

  async *messages(): AsyncIterable<SourceMessage> {
    for (const e of this.entries) {
      let raw: Buffer;
      try {
        raw = readFileSync(join(this.path, e.sub, e.file));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue; // moved or expunged by a mail client meanwhile: seen next run under its new name
        throw new PatchlineError('EMAIL', `cannot read ${join(this.path, e.sub, e.file)}: ${(err as Error).message}`, { input: this.name });
      }
      yield { raw, where: `${this.name}:${e.sub}/${e.file}` };
      this.read.add(e.unique);
    }
  }

  commit(): void {
    writeCursor(this.stateDir, this.name, { read: [...this.read].sort() } satisfies MaildirCursor);
  }

  async close(): Promise<void> {}

  describe() {
    return {};
  }
}
