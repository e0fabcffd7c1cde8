import { hostname } from 'node:os';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { ReportConfig, RepoConfig } from '../core/config-types.js';
import { PatchlineError } from '../core/errors.js';
import { authorAddress } from './author-address.js';
import { entryOutcome, runOutcomes, seriesOutcome, type SeriesOutcome, type Stage } from './outcome.js';
import type { RunFiles } from './run-files.js';
import type { Templates } from './templates.js';
import { harvestView, hasHarvestProblems, seriesView, type SeriesView } from './view.js';

/** A rendered mail, ready to be written as .eml and sent as the same bytes. */
export interface ComposedMail {
  /** File name under <run>/report/mail/. */
  file: string;
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  raw: Buffer;
}

export const DEFAULT_FROM = 'patchline <patchline@localhost>';

/** The template of each stage's failure, and of success. */
const TEMPLATE_OF: Record<Stage | 'success', string> = {
  harvest: 'harvest-problems',
  apply: 'apply-conflict',
  approve: 'approval-needed',
  build: 'build-failure',
  test: 'test-failure',
  push: 'publish-failure', // a failed push waits for the next run: never mailed
  publish: 'publish-failure',
  success: 'success',
};

export function templateFor(o: SeriesOutcome): string {
  if (o.held) return TEMPLATE_OF.approve;
  return TEMPLATE_OF[o.failed?.stage ?? 'success'];
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'mail';
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

export interface MailPlan {
  kind: string;
  key: string;
  /** The local part of a Message-ID that stays the same whichever run sends the mail (default: per run). */
  messageId?: string;
  context: object;
  to: string[];
  inReplyTo?: string;
  attachments: Array<{ filename: string; path: string }>;
}

/** The failure mails the series' author can act on (by sending a new version): copied to them unless report.copyAuthor says no. */
const COPIED_TO_AUTHOR = new Set(['apply-conflict', 'build-failure', 'test-failure']);

function seriesRecipients(report: ReportConfig, repos: Record<string, RepoConfig>, o: SeriesOutcome): string[] {
  const listed = [...new Set([...(repos[o.series.repo]?.report?.recipients ?? []), ...(report.recipients ?? [])])];
  // a copy: with no list configured the mail is only written (.eml), and stays so
  const copy = listed.length > 0 && (repos[o.series.repo]?.report?.copyAuthor ?? report.copyAuthor ?? true) && COPIED_TO_AUTHOR.has(templateFor(o));
  const author = copy ? authorAddress(o) : undefined;
  return author && !listed.some((a) => a.toLowerCase() === author.toLowerCase()) ? [...listed, author] : listed;
}

/** The Message-ID local part of a series' outcome mail: the same in every run, so the mail is recognised wherever it is. */
export function outcomeMessageId(seriesId: string, key: string): string {
  return `patchline.${slug(seriesId)}.${slug(key)}`;
}

/** The Message-ID local part of a harvest's problems mail, whichever run sends it. */
export function harvestMessageId(runId: string): string {
  return `patchline.${slug(runId)}.harvest`;
}

function harvestPlan(files: RunFiles, report: ReportConfig, repos: Record<string, RepoConfig>, stable: boolean): MailPlan | undefined {
  const hv = harvestView(files);
  if (!hasHarvestProblems(hv)) return undefined;
  const involved = new Set(hv.incomplete.map((s) => s.repo));
  return {
    kind: 'harvest-problems',
    key: 'harvest',
    ...(stable ? { messageId: harvestMessageId(files.runId) } : {}),
    context: hv,
    to: [...new Set([...(report.recipients ?? []), ...[...involved].flatMap((r) => repos[r]?.report?.recipients ?? [])])],
    attachments: [],
  };
}

function seriesPlan(files: RunFiles, o: SeriesOutcome, report: ReportConfig, repos: Record<string, RepoConfig>, messageId?: string): MailPlan {
  const view: SeriesView = seriesView(files, o);
  const thread = o.series.coverMessageId ?? o.series.patches[0]?.messageId;
  return {
    kind: templateFor(o),
    key: o.series.id,
    ...(messageId ? { messageId } : {}),
    context: view,
    to: seriesRecipients(report, repos, o),
    ...(report.threadReplies !== false && thread ? { inReplyTo: thread } : {}),
    attachments: view.failedBuilds.flatMap((b) => (b.log?.attached && b.log.path ? [{ filename: `${b.platform}-${b.log.name}`, path: b.log.path }] : [])),
  };
}

/**
 * What to mail for a run. With the ledger snapshot (ledger.json): the problems of each harvest not
 * mailed yet (this run's and those of earlier runs that died before their report), then one mail
 * per series whose outcome this run mails. A run dir from before the ledger: its harvest problems,
 * then one mail per series of its harvest, as before.
 */
export function planMails(files: RunFiles, report: ReportConfig, repos: Record<string, RepoConfig>, harvests: RunFiles[] = []): MailPlan[] {
  const legacy = (outcomes: SeriesOutcome[]) => outcomes.filter((o) => o.failed?.stage !== 'harvest').map((o) => seriesPlan(files, o, report, repos)); // an incomplete series is in the harvest mail
  if (!files.ledger) {
    const h = harvestPlan(files, report, repos, false);
    return [...(h ? [h] : []), ...legacy(runOutcomes(files))];
  }
  const unledgered = new Set(files.ledger.unledgered);
  return [
    ...harvests.flatMap((h) => harvestPlan(h, report, repos, true) ?? []),
    ...files.ledger.series.flatMap((x) => (x.mail ? [seriesPlan(files, entryOutcome(x.entry, x.standing), report, repos, x.mail.messageId)] : [])),
    ...legacy((files.harvest?.series ?? []).filter((s) => unledgered.has(s.id) && s.status !== 'superseded').map((s) => seriesOutcome(files, s))),
  ];
}

/** Render subject, text and HTML of each plan and build the raw RFC 5322 message once. */
export async function composeMails(plans: MailPlan[], templates: Templates, opts: { from: string; runId: string; date: Date }): Promise<ComposedMail[]> {
  const domain = /@([^>\s]+)/.exec(opts.from)?.[1] ?? hostname();
  const out: ComposedMail[] = [];
  for (const [i, plan] of plans.entries()) {
    const subject = oneLine(templates.render(`${plan.kind}.subject.hbs`, plan.context));
    const text = templates.render(`${plan.kind}.text.hbs`, plan.context);
    const html = templates.render(`${plan.kind}.html.hbs`, plan.context);
    const messageId = `<${plan.messageId ?? `patchline.${opts.runId}.${slug(plan.key)}`}@${domain}>`;
    const ref = plan.inReplyTo ? `<${plan.inReplyTo}>` : undefined;
    const composer = new MailComposer({
      from: opts.from,
      to: plan.to,
      subject,
      text,
      html,
      messageId,
      date: opts.date,
      ...(ref ? { inReplyTo: ref, references: [ref] } : {}),
      attachments: plan.attachments.map((a) => ({ filename: a.filename, path: a.path, contentType: 'text/plain' })),
      disableUrlAccess: true,
      xMailer: 'patchline',
    });
    let raw: Buffer;
    try {
      raw = await composer.compile().build();
    } catch (err) {
      throw new PatchlineError('EREPORT', `cannot build the mail ${plan.kind} for ${plan.key}: ${(err as Error).message}`, { input: plan.key });
    }
    out.push({ file: `${String(i + 1).padStart(2, '0')}-${plan.kind}-${slug(plan.key)}.eml`, from: opts.from, to: plan.to, subject, messageId, raw });
  }
  return out;
}
