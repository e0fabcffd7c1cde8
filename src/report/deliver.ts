import type { Logger } from '../core/log.js';
import type { DeliveryCheck } from './delivery-check.js';
import { readEml, readOutbox, writeOutbox, type OutboxEntry } from './outbox.js';
import { isConnectionError, type MailSender } from './smtp.js';
import { mayHaveBeenAccepted } from './smtp-session.js';

export interface Delivery {
  sent: number;
  /** Mails not delivered yet, or cut off and left for the delivery check: the next round sends or settles them. */
  unsent: number;
  /**
   * Mails that may or may not have been delivered (their SMTP transaction was cut off) and that
   * no delivery check settled: only `--resend --unknown` sends them, at the risk of a duplicate.
   */
  unknown: number;
  /** Why the mails left unsent were not sent (the server's or the socket's message). */
  error?: string;
}

export interface DeliverOptions {
  /** Only these mails of the outbox (the others are neither settled, sent nor counted). */
  only?: (entry: OutboxEntry) => boolean;
  /** Send the unknown mails too: a person chose to risk a duplicate (`patchline report --resend <run> --unknown`). */
  includeUnknown?: boolean;
  /** report.deliveryCheck (deliveryCheckFor): settles cut-off mails by looking for them where they arrive. */
  check?: DeliveryCheck;
}

const now = (): string => new Date().toISOString();

/**
 * Send every mail of the run's outbox not sent yet, the bytes of its .eml file, so that none is
 * ever sent twice (docs/decisions/mail-exactly-once.md): per mail, the session is opened first,
 * then `attempt` is written (fsynced), then the transaction runs, then `sent` is written. A mail
 * found with an attempt and no answer was cut off: the delivery check settles it, or it becomes
 * unknown. The server being unreachable stops the round: the rest stay for `--resend`.
 */
export async function deliverOutbox(runDir: string, sender: MailSender, log: Logger, opts: DeliverOptions = {}): Promise<Delivery> {
  const outbox = readOutbox(runDir);
  const save = (): void => writeOutbox(runDir, outbox);
  const mails = opts.only ? outbox.mails.filter(opts.only) : outbox.mails;
  let error = await settleCutOff(mails, save, log, opts.check);
  let sent = 0;
  for (const entry of mails) {
    if (entry.sent || cutOff(entry) || (entry.unknown && !opts.includeUnknown)) continue;
    if (entry.to.length === 0) {
      log.warn(`mail ${entry.file}: no recipients configured (report.recipients, repos.<repo>.report.recipients): written, not sent`);
      continue;
    }
    let raw: Buffer;
    try {
      raw = readEml(runDir, entry);
      await sender.open();
    } catch (err) {
      error = (err as Error).message;
      log.warn(`mail ${entry.file} not sent: ${error}`);
      if (isConnectionError(err)) break;
      continue;
    }
    entry.attempt = { at: now() };
    save();
    try {
      const response = await sender.send(raw, { from: entry.from, to: entry.to });
      entry.sent = { at: now(), response };
      delete entry.unknown;
      save();
      sent++;
    } catch (err) {
      error = (err as Error).message;
      if (mayHaveBeenAccepted(err)) {
        // with a check that can see it, the attempt stays for the next round to settle (the mail may still be on its way)
        if (!opts.check?.covers(entry.to)) entry.unknown = { at: now(), reason: `no answer to its SMTP transaction: ${error}` };
        save();
        log.warn(`mail ${entry.file} ${entry.messageId}: the server may or may not have taken it (${error})`);
        break; // the session is gone with it
      }
      delete entry.attempt;
      save();
      log.warn(`mail ${entry.file} not sent: ${error}`);
      if (isConnectionError(err)) break;
    }
  }
  const unknown = mails.filter((m) => !m.sent && m.unknown).length;
  return { sent, unsent: mails.filter((m) => !m.sent).length - unknown, unknown, ...(error ? { error } : {}) };
}

/** An attempt without an answer, not settled: the mail may be out there. */
const cutOff = (m: OutboxEntry): boolean => !m.sent && !m.unknown && m.attempt !== undefined;

/**
 * Settle the mails cut off in their transaction (an attempt and no answer: the process died or
 * the check could not run) and the unknown ones. Found by the delivery check: sent. Not found:
 * unsent again, so they go out in this round. A cut-off mail no check can see becomes unknown;
 * when the check fails, the mails stay cut off for the next round. Returns the check's error.
 */
async function settleCutOff(mails: OutboxEntry[], save: () => void, log: Logger, check?: DeliveryCheck): Promise<string | undefined> {
  const doubtful = mails.filter((m) => cutOff(m) || (!m.sent && m.unknown));
  if (doubtful.length === 0) return undefined;
  const checkable = check ? doubtful.filter((m) => check.covers(m.to)) : [];
  let found: Set<string> | undefined;
  let error: string | undefined;
  if (check && checkable.length > 0) {
    const since = Math.max(...checkable.map((m) => Date.parse(m.attempt?.at ?? m.unknown!.at)));
    try {
      found = await check.find(checkable.map((m) => m.messageId), new Date(since + check.waitMs));
    } catch (err) {
      error = (err as Error).message;
      log.warn(`report: ${checkable.length} cut-off mails stay unsettled until the next round: ${error}`);
    } finally {
      await check.close();
    }
  }
  for (const m of doubtful) {
    if (check && checkable.includes(m)) {
      if (!found) continue;
      if (found.has(m.messageId)) {
        m.sent = { at: now(), response: `found in ${check.source} by Message-ID` };
        delete m.unknown;
        log.info(`mail ${m.file} ${m.messageId}: cut off, but found in ${check.source}: sent`);
      } else {
        delete m.attempt;
        delete m.unknown;
        log.info(`mail ${m.file} ${m.messageId}: cut off and not in ${check.source}: sending it`);
      }
    } else if (!m.unknown) {
      const why = check ? `not sent to ${check.address}, the address report.deliveryCheck sees` : 'no report.deliveryCheck to tell whether the server took it';
      m.unknown = { at: now(), reason: `cut off during its SMTP transaction (attempt ${m.attempt!.at}); ${why}` };
      log.warn(`mail ${m.file} ${m.messageId}: delivery unknown: ${m.unknown.reason}`);
    }
  }
  save();
  return error;
}
