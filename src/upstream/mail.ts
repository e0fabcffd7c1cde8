import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { composeMails, DEFAULT_FROM, type MailPlan } from '../report/compose.js';
import { deliverOutbox } from '../report/deliver.js';
import { deliveryCheckFor } from '../report/delivery-check.js';
import { readOutbox, storeMails } from '../report/outbox.js';
import { smtpSender } from '../report/smtp.js';
import type { Templates } from '../report/templates.js';
import { logTail } from './failure.js';
import type { UpstreamBuildRecord } from './types.js';

/**
 * Failure and recovery mails (DESIGN.md "Upstream"). Exactly once across crashes, as the report
 * step does it: the intent is recorded on the build record (`mail`) when the record is written;
 * then the mail is rendered into one outbox (<state>/upstream/mail/report/mail/outbox.json, the
 * report's outbox.ts, keyed by a Message-ID that depends only on the record) and delivered by
 * deliver.ts (attempt before the transaction, sent after the 250, the delivery check for a cut-off).
 * A run re-stores every intent its outbox lacks (a crash between the record and the outbox), so no
 * intent is lost and none is stored twice.
 */
export type MailKind = 'failure' | 'recovery';

/** What a new final record (FAILED or SUCCESS, not a bisection step) mails, given the project/platform's previous final record. */
export function mailKindFor(record: UpstreamBuildRecord, previous: UpstreamBuildRecord | undefined): MailKind | undefined {
  if (record.status === 'FAILED') {
    if (!previous || previous.status === 'SUCCESS') return 'failure';
    // the same failure again: no mail; a different cause (step or signature): a new one
    const a = previous.failure;
    const b = record.failure;
    return a && b && a.step === b.step && a.signature === b.signature ? undefined : 'failure';
  }
  if (record.status === 'SUCCESS' && previous?.status === 'FAILED') return 'recovery';
  return undefined;
}

export const upstreamMailDir = (upstreamDir: string): string => join(upstreamDir, 'mail');

export const mailMessageId = (record: UpstreamBuildRecord, kind: MailKind): string => `patchline.upstream.${kind}.${record.id.replace(/[^A-Za-z0-9._-]+/g, '.')}`;

export interface MailContextInput {
  record: UpstreamBuildRecord;
  kind: MailKind;
  /** The failure this recovery ends. */
  ended?: UpstreamBuildRecord;
  maintainers: string[];
  /** The build log on disk (its tail goes into the mail). */
  logFile?: string;
  logUrl?: string;
  repoUrl?: string;
  commitUrl?: (sha: string) => string | undefined;
}

function plan(input: MailContextInput, catchAll: string[]): MailPlan {
  const { record, kind } = input;
  const link = (sha: string) => input.commitUrl?.(sha) ?? null;
  const log = input.logFile && existsSync(input.logFile) ? logTail(readFileSync(input.logFile, 'utf8')) : null;
  const context = {
    kind,
    project: record.project,
    platform: record.platform,
    status: record.status,
    nvr: record.nvr ?? null,
    commit: { ...record.commit, short: record.commit.sha.slice(0, 12), url: link(record.commit.sha) },
    distgit: record.distgitSha.slice(0, 12),
    failure: record.failure ?? null,
    firstBad: record.firstBadCommit ? { ...record.firstBadCommit, short: record.firstBadCommit.sha.slice(0, 12), url: record.firstBadCommit.packaging ? null : link(record.firstBadCommit.sha) } : null,
    ended: input.ended ? { short: input.ended.commit.sha.slice(0, 12), subject: input.ended.commit.subject, since: input.ended.builtAt } : null,
    log,
    logUrl: input.logUrl ?? null,
    repoUrl: input.repoUrl ?? null,
  };
  return { kind: `upstream-mail-${kind}`, key: record.id, messageId: mailMessageId(record, kind), context, to: [...new Set([...input.maintainers, ...catchAll])], attachments: [] };
}

/** Render and store the mails of these intents that the outbox lacks (idempotent by Message-ID). */
export async function storeUpstreamMails(upstreamDir: string, inputs: readonly MailContextInput[], loaded: LoadedConfig, templates: Templates, runId: string): Promise<number> {
  const box = upstreamMailDir(upstreamDir);
  const domain = /@([^>\s]+)/.exec(loaded.config.report?.smtp?.from ?? DEFAULT_FROM)?.[1];
  const have = new Set(readOutbox(box).mails.map((m) => m.messageId));
  const todo = inputs.filter((i) => !have.has(`<${mailMessageId(i.record, i.kind)}@${domain}>`));
  if (todo.length === 0) return 0;
  const report = loaded.config.report ?? {};
  const mails = await composeMails(
    todo.map((i) => plan(i, report.recipients ?? [])),
    templates,
    { from: report.smtp?.from ?? DEFAULT_FROM, runId, date: new Date() },
  );
  storeMails(box, mails.map((m) => ({ ...m, file: `${runId}-${m.file}` })));
  return mails.length;
}

/** Send what the outbox holds unsent (each once); without report.smtp the .eml files are the delivery. */
export async function deliverUpstreamMails(upstreamDir: string, loaded: LoadedConfig, log: Logger): Promise<void> {
  const smtp = loaded.config.report?.smtp;
  const box = upstreamMailDir(upstreamDir);
  if (!smtp || !existsSync(join(box, 'report', 'mail', 'outbox.json'))) return;
  const sender = smtpSender(smtp, loaded.baseDir);
  let d;
  try {
    d = await deliverOutbox(box, sender, log, { check: deliveryCheckFor(loaded.config, loaded.baseDir) });
  } finally {
    sender.close();
  }
  if (d.sent || d.unsent) log.info(`upstream: ${d.sent} mails sent${d.unsent ? `, ${d.unsent} not sent (sent by the next run)` : ''}`);
  if (d.unknown > 0) log.warn(`upstream: ${d.unknown} mails may or may not have been delivered (cut off during their SMTP transaction)`);
}
