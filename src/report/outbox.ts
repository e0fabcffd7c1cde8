import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import { fsyncDir, writeFileAtomic, writeJsonAtomic } from '../core/fsutil.js';
import type { ComposedMail } from './compose.js';

/**
 * <run>/report/mail/: every mail as .eml, and outbox.json recording the envelope of each and how
 * far its delivery got, so that `--resend` never sends one twice (docs/decisions/mail-exactly-once.md).
 * A mail is unsent, then `attempt` (written before its SMTP transaction), then `sent` (after the
 * server's 250), or `unknown` when that transaction was cut off and nothing could tell its outcome.
 */
export interface OutboxEntry {
  file: string;
  from: string;
  to: string[];
  subject: string;
  /** Keys the entry (unique within the outbox) and is what a delivery check looks for. */
  messageId: string;
  /** On disk before the mail's transaction starts: from then on the server may have the mail. */
  attempt?: { at: string };
  sent?: { at: string; response: string };
  /** Maybe delivered, maybe not, and nothing could check: only `--resend --unknown` sends it again. */
  unknown?: { at: string; reason: string };
}

export interface Outbox {
  mails: OutboxEntry[];
}

export const mailDir = (runDir: string): string => join(runDir, 'report', 'mail');
const outboxPath = (runDir: string): string => join(mailDir(runDir), 'outbox.json');

export function readOutbox(runDir: string): Outbox {
  const path = outboxPath(runDir);
  if (!existsSync(path)) return { mails: [] };
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Outbox;
  } catch (err) {
    throw new PatchlineError('EREPORT', `cannot read ${path}: ${(err as Error).message}`, { input: path });
  }
}

/**
 * Replace outbox.json atomically (a reader or a crash sees the old or the new one, never half)
 * and durably: the directory is fsynced too, or after a power cut the rename could be undone and
 * an `attempt` recorded before a transaction lost, which would send that mail again.
 */
export function writeOutbox(runDir: string, outbox: Outbox): void {
  writeJsonAtomic(outboxPath(runDir), outbox);
  fsyncDir(mailDir(runDir));
}

/**
 * Write the .eml files of a fresh rendering. A mail whose delivery has begun (attempt, sent or
 * unknown) keeps its record and its file: the bytes that may be out there are the ones a
 * resend or a delivery check must match. Entries are matched by Message-ID.
 */
export function storeMails(runDir: string, mails: ComposedMail[]): Outbox {
  const ids = mails.map((m) => m.messageId);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new PatchlineError('EINTERNAL', `two mails of this run have the Message-ID ${dup}: the outbox records deliveries by Message-ID`, { input: dup });
  const previous = readOutbox(runDir);
  const begun = new Map(previous.mails.filter((m) => m.attempt || m.sent || m.unknown).map((m) => [m.messageId, m]));
  // a mail an earlier rendering of this run planned and this one does not (the ledger already owns
  // it, so a report step run again plans it no more) stays: the drain still sends it, once
  const planned = new Set(ids);
  const earlier = previous.mails.filter((m) => !planned.has(m.messageId));
  const keptFiles = new Set([...earlier.map((m) => m.file), ...mails.flatMap((m) => begun.get(m.messageId)?.file ?? [])]);
  const entries: OutboxEntry[] = mails.map((m) => {
    const kept = begun.get(m.messageId);
    if (kept) return kept;
    const file = freeName(m.file, keptFiles);
    writeFileAtomic(join(mailDir(runDir), file), m.raw);
    return { file, from: m.from, to: m.to, subject: m.subject, messageId: m.messageId };
  });
  const outbox = { mails: [...earlier, ...entries] };
  writeOutbox(runDir, outbox);
  return outbox;
}

/** `file`, or `file` with a number when a kept entry's .eml already has that name (never overwrite bytes that went out). */
function freeName(file: string, taken: Set<string>): string {
  let name = file;
  for (let n = 2; taken.has(name); n++) name = file.replace(/(\.eml)?$/, `-${n}$1`);
  return name;
}

export function readEml(runDir: string, entry: OutboxEntry): Buffer {
  return readFileSync(join(mailDir(runDir), entry.file));
}
