import type { Logger } from '../core/log.js';
import { isConnectionError, type MailSender } from './smtp.js';
import { readEml, readOutbox, writeOutbox } from './outbox.js';

export interface Delivery {
  sent: number;
  unsent: number;
  /** Why the mails left unsent were not sent (the server's or the socket's message). */
  error?: string;
}

/**
 * Send every mail of the run's outbox not sent yet, the bytes of its .eml file, recording each
 * one as sent at once (a crash mid-way never sends one twice). The server being unreachable
 * stops the round: the rest stay in the outbox for `--resend`.
 */
export async function deliverOutbox(runDir: string, sender: MailSender, log: Logger): Promise<Delivery> {
  const outbox = readOutbox(runDir);
  let sent = 0;
  let error: string | undefined;
  for (const entry of outbox.mails) {
    if (entry.sent) continue;
    if (entry.to.length === 0) {
      log.warn(`mail ${entry.file}: no recipients configured (report.recipients, repos.<repo>.report.recipients): written, not sent`);
      continue;
    }
    try {
      const response = await sender.send(readEml(runDir, entry), { from: entry.from, to: entry.to });
      entry.sent = { at: new Date().toISOString(), response };
      writeOutbox(runDir, outbox);
      sent++;
    } catch (err) {
      error = (err as Error).message;
      log.warn(`mail ${entry.file} not sent: ${error}`);
      if (isConnectionError(err)) break;
    }
  }
  return { sent, unsent: outbox.mails.filter((m) => !m.sent).length, ...(error ? { error } : {}) };
}
