import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../core/config.js';
import { PatchlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ComposedMail } from '../report/compose.js';
import { deliverOutbox } from '../report/deliver.js';
import { deliveryCheckFor } from '../report/delivery-check.js';
import { readOutbox, storeMails } from '../report/outbox.js';
import { smtpSender, type MailSender } from '../report/smtp.js';
import { fileSlug, trackingDir } from './store.js';
import { timed } from './timing.js';
import type { ReviewRecord } from './types.js';

/**
 * Where a tracking review goes once its branch is pushed. The scan's exactly-once protocol drives
 * it in three steps, each safe to repeat after a crash:
 *   1. `store` (before the push): what the review will say, kept durably under the review's id;
 *   2. `deliver` (after the push is recorded): send what is not sent yet; done when all of it is;
 *   3. `discard` (an attempt taken back): only while `begun` is false, i.e. nothing left the machine.
 * The mailing list (`MailReviewChannel`) is the one channel built here: patchline's own mail
 * pipeline harvests the series. A forge's pull request (GitHub, Gitee, GitLab) is another
 * implementation: `store` keeps the request body, `deliver` opens the pull request for the pushed
 * branch unless one is open for it already (looked up by the branch, the forge's own idempotency
 * key), `begun` is true once the request was sent. No forge can run on these machines, so none is here.
 */
export interface ReviewChannel {
  /** What the review record calls the review (the cover letter's Message-ID, a pull request's URL). */
  store(reviewId: string, mails: ComposedMail[]): string;
  deliver(record: ReviewRecord): Promise<{ total: number; sent: number; unknown: number; error?: string }>;
  /** Whether any of the review may have reached anyone (then it is never taken back). */
  begun(reviewId: string): boolean;
  discard(reviewId: string): void;
  /** Release what the channel holds open (an SMTP connection). */
  close(): void;
}

/** The review as a mail series to tracking.reviewTo, through the report's outbox: each mail exactly once. */
export class MailReviewChannel implements ReviewChannel {
  private sender?: MailSender;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly log: Logger,
  ) {}

  /** Where a review's mails (.eml + outbox.json, src/report/outbox.ts) live: `<dir>/report/mail/`. */
  private outboxDir(reviewId: string): string {
    return join(trackingDir(this.loaded.stateDir), 'outbox', fileSlug(reviewId));
  }

  private senderOf(): MailSender {
    const smtp = this.loaded.config.report?.smtp;
    if (!smtp) throw new PatchlineError('ECONFIG', 'report.smtp: required to mail tracking reviews', { input: this.loaded.file });
    this.sender ??= smtpSender(smtp, this.loaded.baseDir);
    return this.sender;
  }

  store(reviewId: string, mails: ComposedMail[]): string {
    storeMails(this.outboxDir(reviewId), mails);
    return mails[0]!.messageId.replace(/^<|>$/g, '');
  }

  async deliver(record: ReviewRecord): Promise<{ total: number; sent: number; unknown: number; error?: string }> {
    const dir = this.outboxDir(record.id);
    const d = await timed('mail', () => deliverOutbox(dir, this.senderOf(), this.log, { check: deliveryCheckFor(this.loaded.config, this.loaded.baseDir) }));
    const mails = readOutbox(dir).mails;
    return { total: mails.length, sent: mails.filter((m) => m.sent).length, unknown: d.unknown, ...(d.error ? { error: d.error } : {}) };
  }

  begun(reviewId: string): boolean {
    return readOutbox(this.outboxDir(reviewId)).mails.some((m) => m.attempt || m.sent || m.unknown);
  }

  discard(reviewId: string): void {
    rmSync(this.outboxDir(reviewId), { recursive: true, force: true });
  }

  close(): void {
    this.sender?.close();
  }
}
