import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveFrom } from '../core/config.js';
import { ExitCode, PatchlineError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fsutil.js';
import { readResultIfExists } from '../core/results.js';
import type { StepContext, StepRun } from '../core/step-context.js';
import { readOwedMail, writeOwedMail, type OwedMail, type UnreportedHarvest } from '../ledger/harvest-runs.js';
import { outcomeKey, standing } from '../ledger/progress.js';
import { writeRunLedger, type RunLedgerSeries } from '../ledger/snapshot.js';
import { Ledger } from '../ledger/store.js';
import type { LedgerEntry } from '../ledger/types.js';
import { DEFAULT_FROM, composeMails, harvestMessageId, outcomeMessageId, planMails, type ComposedMail } from './compose.js';
import { deliverOutbox } from './deliver.js';
import { deliveryCheckFor } from './delivery-check.js';
import { junitXml } from './junit.js';
import { mailDir, readOutbox, storeMails } from './outbox.js';
import { readRunFiles, runDate, type RunFiles } from './run-files.js';
import { smtpSender } from './smtp.js';
import { writeStatusPages } from './status-page.js';
import { loadTemplates } from './templates.js';

/** Send what an outbox still holds of the mails `owned` names; without SMTP configured or reachable, the .eml files wait. */
async function send(ctx: StepContext, runDir: string, owned?: ReadonlySet<string>): Promise<{ unsent: number; error?: string }> {
  const smtp = ctx.loaded.config.report?.smtp;
  const pending = readOutbox(runDir).mails.filter((m) => !m.sent && (!owned || owned.has(m.messageId))).length;
  if (!smtp) {
    if (pending > 0) ctx.log.warn(`report: no report.smtp configured: ${pending} mails written to ${mailDir(runDir)}, not sent`);
    return { unsent: pending };
  }
  if (pending === 0) return { unsent: 0 };
  const sender = smtpSender(smtp, ctx.loaded.baseDir);
  try {
    const d = await deliverOutbox(runDir, sender, ctx.log, {
      ...(owned ? { only: (m) => owned.has(m.messageId) } : {}),
      includeUnknown: ctx.options.unknown === true,
      check: deliveryCheckFor(ctx.loaded.config, ctx.loaded.baseDir),
    });
    ctx.log.info(`report: ${d.sent} mails sent to ${smtp.host}${d.unsent ? `, ${d.unsent} not sent` : ''}`);
    if (d.unknown > 0) ctx.log.warn(`report: ${d.unknown} mails may or may not have been delivered (cut off during their SMTP transaction); send them anyway with: patchline report --resend ${runDir} --unknown`);
    if (d.unsent > 0) ctx.log.warn(`report: ${d.unsent} mails are kept in ${mailDir(runDir)}; the next run sends them, or send them later with: patchline report --resend ${runDir}`);
    return d;
  } finally {
    sender.close();
  }
}

/** `--resend <run>`: a run dir, or a run id under <state>/runs. */
function resendDir(ctx: StepContext, run: string): string {
  const dir = existsSync(run) ? resolve(run) : join(ctx.loaded.stateDir, 'runs', run);
  if (!existsSync(join(dir, 'report', 'mail', 'outbox.json'))) throw new PatchlineError('EUSAGE', `--resend ${run}: no report/mail/outbox.json there: run the report step for it first`, { input: dir });
  return dir;
}

const matches = (e: LedgerEntry, o: { repo?: string; branch?: string }) => (o.repo === undefined || e.repo === o.repo) && (o.branch === undefined || e.branch === o.branch);

/** The series this run's report is about: those the run worked on, and those whose outcome is not mailed yet. */
function selectSeries(ledger: Ledger, ctx: StepContext): RunLedgerSeries[] {
  const { runId } = ctx;
  const out: RunLedgerSeries[] = [];
  for (const e of ledger.all()) {
    if (!matches(e, ctx.options) || e.closed) continue;
    const s = standing(e, ctx.loaded.config);
    const key = outcomeKey(e, s);
    const mail = key !== undefined && e.reported?.key !== key ? { key, messageId: outcomeMessageId(e.id, key) } : undefined;
    const touched = e.harvested.run === runId || e.apply?.run === runId || Object.values(e.builds).some((b) => b.run === runId) || Object.values(e.published).some((p) => p.run === runId);
    if (touched || mail) out.push({ entry: e, standing: s, ...(mail ? { mail } : {}) });
  }
  return out;
}

/** The Message-IDs each listed outbox owns: a mail planned by a run that died before the ledger owned it is never sent (a later run planned it again). */
function ownedMail(ledger: Ledger, owed: OwedMail, runDir: string): Map<string, Set<string>> {
  const owned = new Map<string, Set<string>>(owed.outboxes.map((d) => [d, new Set<string>()]));
  // an earlier outbox may hold the mail of a series closed since: then the closed entries are read too
  const entries = owed.outboxes.some((d) => d !== runDir) ? ledger.allWithClosed() : ledger.all();
  for (const e of entries) if (e.reported) owned.get(e.reported.runDir)?.add(e.reported.messageId);
  for (const h of owed.harvests) if (h.mailedIn) owned.get(h.mailedIn.runDir)?.add(h.mailedIn.messageId);
  return owned;
}

/**
 * Mail what the run owes, exactly once across crashes: (1) the mails are written to this run's
 * outbox, (2) the outbox is listed as owed, (3) the ledger records which mail reports which
 * outcome (the commit point: a crash before it leaves an outbox no one owns, and the next run
 * plans the same mails again), (4) every owed outbox is drained, each mail sent once (deliver.ts).
 */
async function commitAndDeliver(ctx: StepContext, ledger: Ledger, mails: ComposedMail[], planned: RunLedgerSeries[], harvests: UnreportedHarvest[]): Promise<void> {
  const { stateDir } = ctx.loaded;
  const smtp = ctx.loaded.config.report?.smtp;
  const at = new Date().toISOString();
  // composed Message-IDs by their local part (the part that is the same in every run)
  const byLocal = new Map(mails.map((m) => [m.messageId.replace(/^<|@.*$/g, ''), m.messageId]));
  let owed = readOwedMail(stateDir);
  if (smtp && mails.length > 0) writeOwedMail(stateDir, (owed = { ...owed, outboxes: [...owed.outboxes.filter((d) => d !== ctx.runDir), ctx.runDir] }));
  ledger.put(
    planned.flatMap((x) => {
      const messageId = x.mail && byLocal.get(x.mail.messageId);
      if (!messageId) return [];
      // a success mailed closes the series: nothing more will happen to it
      const closed = x.standing.state === 'done' ? { closed: { run: ctx.runId, at, why: 'done' as const } } : {};
      return [{ ...x.entry, reported: { run: ctx.runId, at, key: x.mail!.key, messageId, runDir: ctx.runDir }, ...closed }];
    }),
  );
  const mailed = new Map(harvests.map((h) => [h.run, byLocal.get(harvestMessageId(h.run))]));
  owed = {
    ...owed,
    // without SMTP the .eml files are the delivery: nothing more is owed for them
    harvests: owed.harvests.flatMap((h) => {
      if (!mailed.has(h.run)) return [h];
      const messageId = mailed.get(h.run);
      return smtp && messageId ? [{ ...h, mailedIn: { runDir: ctx.runDir, messageId } }] : [];
    }),
  };
  writeOwedMail(stateDir, owed);
  if (!smtp) {
    await send(ctx, ctx.runDir);
    return;
  }
  const owned = ownedMail(ledger, owed, ctx.runDir);
  const drained = new Set<string>();
  for (const [dir, ids] of owned) {
    // this run's outbox holds only what this run planned, past the commit point: all of it is owned
    const only = dir === ctx.runDir ? undefined : ids;
    if (!existsSync(dir)) {
      ctx.log.warn(`report: the outbox of ${dir} is gone: its unsent mails are lost`);
      drained.add(dir);
      continue;
    }
    const d = await send(ctx, dir, only);
    if (d.unsent === 0) drained.add(dir);
    else if (d.error) break; // the server is unreachable: the rest wait for the next run
  }
  if (drained.size > 0) {
    owed = readOwedMail(stateDir);
    writeOwedMail(stateDir, { outboxes: owed.outboxes.filter((d) => !drained.has(d)), harvests: owed.harvests.filter((h) => !h.mailedIn || !drained.has(h.mailedIn.runDir)) });
  }
}

export const runReportStep: StepRun = async (ctx) => {
  const { loaded, runDir, runId, log, options } = ctx;
  if (typeof options.resend === 'string') {
    const dir = resendDir(ctx, options.resend);
    if (!loaded.config.report?.smtp) throw new PatchlineError('ECONFIG', 'report.smtp: required to resend mails', { input: 'report.smtp' });
    const d = await send(ctx, dir);
    if (d.unsent > 0) throw new PatchlineError('EREPORT', `${d.unsent} mails still not sent${d.error ? `: ${d.error}` : ''}`, { input: mailDir(dir) });
    return ExitCode.ok;
  }
  const dryRun = options.dryRun === true;
  const report = loaded.config.report ?? {};
  const templates = loadTemplates(report.templatesDir ? resolveFrom(loaded.baseDir, report.templatesDir) : undefined);
  const ledger = Ledger.open(loaded.stateDir);
  // a dry run records nothing in the ledger: it reports from its run files as a run dir from before the ledger
  const planned = dryRun ? [] : selectSeries(ledger, ctx);
  const harvests = dryRun ? [] : readOwedMail(loaded.stateDir).harvests.filter((h) => !h.mailedIn && (h.run === runId || existsSync(h.runDir)));
  if (!dryRun) {
    const unledgered = (readResultIfExists(runDir, 'harvest')?.series ?? []).filter((s) => !ledger.get(s.id)).map((s) => s.id);
    writeRunLedger(runDir, { runId, series: planned, harvests, unledgered });
  }
  const files = readRunFiles(runDir);
  const harvestFiles: RunFiles[] = harvests.map((h) => (h.run === runId ? files : readRunFiles(h.runDir)));
  // a run dir whose harvest.json no harvest step put in the ledger (written by hand): its problems are mailed as before
  if (files.ledger && files.harvest && files.ledger.unledgered.length === files.harvest.series.length && files.harvest.series.length > 0 && !harvests.some((h) => h.run === runId)) harvestFiles.push(files);
  const reportDir = join(runDir, 'report');
  const now = new Date();
  let mails: ComposedMail[];
  try {
    mails = await composeMails(planMails(files, report, loaded.config.repos, harvestFiles), templates, { from: report.smtp?.from ?? DEFAULT_FROM, runId: files.runId, date: runDate(files) ?? now });
    storeMails(runDir, mails);
    writeFileAtomic(join(reportDir, 'junit.xml'), junitXml(files));
    await writeStatusPages({ loaded, runDir, files, templates, log, now, dryRun });
    log.info(`report: ${mails.length} mails, junit.xml and status.html written to ${reportDir}`);
  } catch (err) {
    if (err instanceof PatchlineError && err.code === 'EREPORT') {
      log.warn(`report: rendering failed: ${err.message}`);
      return ExitCode.failed;
    }
    throw err;
  }
  if (dryRun) await send(ctx, runDir);
  else await commitAndDeliver(ctx, ledger, mails, planned, harvests);
  return ExitCode.ok;
};
