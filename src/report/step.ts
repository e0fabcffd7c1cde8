import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveFrom } from '../core/config.js';
import { ExitCode, PatchlineError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fsutil.js';
import type { StepContext, StepRun } from '../core/step-context.js';
import { DEFAULT_FROM, composeMails, planMails } from './compose.js';
import { deliverOutbox } from './deliver.js';
import { junitXml } from './junit.js';
import { mailDir, readOutbox, storeMails } from './outbox.js';
import { readRunFiles, runDate } from './run-files.js';
import { smtpSender } from './smtp.js';
import { readHistory, renderStatusPage } from './status-page.js';
import { loadTemplates } from './templates.js';

/** Send what the run's outbox still holds; without SMTP configured or reachable, the .eml files wait for --resend. */
async function send(ctx: StepContext, runDir: string): Promise<{ unsent: number; error?: string }> {
  const smtp = ctx.loaded.config.report?.smtp;
  const pending = readOutbox(runDir).mails.filter((m) => !m.sent).length;
  if (!smtp) {
    if (pending > 0) ctx.log.warn(`report: no report.smtp configured: ${pending} mails written to ${mailDir(runDir)}, not sent`);
    return { unsent: pending };
  }
  if (pending === 0) return { unsent: 0 };
  const sender = smtpSender(smtp, ctx.loaded.baseDir);
  try {
    const d = await deliverOutbox(runDir, sender, ctx.log);
    ctx.log.info(`report: ${d.sent} mails sent to ${smtp.host}${d.unsent ? `, ${d.unsent} not sent` : ''}`);
    if (d.unsent > 0) ctx.log.warn(`report: ${d.unsent} mails are kept in ${mailDir(runDir)}; send them later with: patchline report --resend ${runDir}`);
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

export const runReportStep: StepRun = async (ctx) => {
  const { loaded, runDir, log, options } = ctx;
  if (typeof options.resend === 'string') {
    const dir = resendDir(ctx, options.resend);
    if (!loaded.config.report?.smtp) throw new PatchlineError('ECONFIG', 'report.smtp: required to resend mails', { input: 'report.smtp' });
    const d = await send(ctx, dir);
    if (d.unsent > 0) throw new PatchlineError('EREPORT', `${d.unsent} mails still not sent${d.error ? `: ${d.error}` : ''}`, { input: mailDir(dir) });
    return ExitCode.ok;
  }
  const report = loaded.config.report ?? {};
  const templates = loadTemplates(report.templatesDir ? resolveFrom(loaded.baseDir, report.templatesDir) : undefined);
  const files = readRunFiles(runDir);
  const reportDir = join(runDir, 'report');
  const now = new Date();
  try {
    const mails = await composeMails(planMails(files, report, loaded.config.repos), templates, { from: report.smtp?.from ?? DEFAULT_FROM, runId: files.runId, date: runDate(files) ?? now });
    storeMails(runDir, mails);
    writeFileAtomic(join(reportDir, 'junit.xml'), junitXml(files));
    writeFileAtomic(join(reportDir, 'status.html'), renderStatusPage(readHistory(runDir, log), loaded.config, reportDir, templates, now));
    log.info(`report: ${mails.length} mails, junit.xml and status.html written to ${reportDir}`);
  } catch (err) {
    if (err instanceof PatchlineError && err.code === 'EREPORT') {
      log.warn(`report: rendering failed: ${err.message}`);
      return ExitCode.failed;
    }
    throw err;
  }
  await send(ctx, runDir);
  return ExitCode.ok;
};
