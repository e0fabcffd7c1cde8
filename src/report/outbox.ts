import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../core/fsutil.js';
import type { ComposedMail } from './compose.js';

/**
 * <run>/report/mail/: every mail as .eml, and outbox.json recording the envelope of each and
 * whether it was sent, so that `--resend` sends only what is still unsent and never twice.
 */
export interface OutboxEntry {
  file: string;
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  sent?: { at: string; response: string };
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

export function writeOutbox(runDir: string, outbox: Outbox): void {
  writeJsonAtomic(outboxPath(runDir), outbox);
}

/** Write the .eml files of a fresh rendering; mails already sent keep their file and record. */
export function storeMails(runDir: string, mails: ComposedMail[]): Outbox {
  const previous = readOutbox(runDir);
  const sent = new Map(previous.mails.filter((m) => m.sent).map((m) => [m.file, m]));
  const entries: OutboxEntry[] = mails.map((m) => {
    const done = sent.get(m.file);
    if (done) return done;
    writeFileAtomic(join(mailDir(runDir), m.file), m.raw);
    return { file: m.file, from: m.from, to: m.to, subject: m.subject, messageId: m.messageId };
  });
  const outbox = { mails: entries };
  writeOutbox(runDir, outbox);
  return outbox;
}

export function readEml(runDir: string, entry: OutboxEntry): Buffer {
  return readFileSync(join(mailDir(runDir), entry.file));
}
