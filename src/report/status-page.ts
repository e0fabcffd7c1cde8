/**
 * The status page: per configured repo/branch the last result, the first failure after a success,
 * the days since the last success, and the timeline, from the history in the state dir
 * (status-history.ts). Written to three places, each a folder that holds everything the page
 * links to (its CSS, the logs of failed builds), so that it renders styled and its links resolve
 * under Jenkins' default Content-Security-Policy (no inline style or script) and on a web server:
 *   <run>/report/status.html      archived and published by Jenkins with the run (this run's logs)
 *   <state>/status/index.html     the stable copy, with `latest` naming the last run reported
 *   <destination>/status/         beside the yum repos, when publish.destination is configured
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveFrom, type LoadedConfig } from '../core/config.js';
import type { Config } from '../core/config-types.js';
import { asPatchlineError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fsutil.js';
import type { Logger } from '../core/log.js';
import { TEMPLATES_DIR } from '../core/paths.js';
import { rsyncTree } from '../publish/rsync.js';
import { publishSettings } from '../publish/settings.js';
import type { RunFiles } from './run-files.js';
import { byTime, copyLogs, historyRecord, importReportedRuns, pruneLogCopies, readHistoryRuns, writeHistoryRun, type HistoryPlatform, type HistoryRun, type HistorySeries } from './status-history.js';
import type { Templates } from './templates.js';

/** The stable copy's folder in the state dir, and the name it takes beside the repos. */
export const STATUS_DIR = 'status';
export const STYLESHEET = 'status.css';

const DAY = 24 * 3600 * 1000;

/** How a copy of the page links what is not beside it. */
interface LinkContext {
  /** The folder the page is in: a log is linked when its copy is there. */
  pageDir: string;
  /** Published beside the repos: a repo without an http(s) URL is ../<platform>/. */
  besideRepos: boolean;
}

interface Entry {
  run: HistoryRun;
  series: HistorySeries;
}

const isHttp = (url: string | null): url is string => url !== null && /^https?:\/\//.test(url);
const href = (path: string) => path.split('/').map(encodeURIComponent).join('/');

function repoLink(p: HistoryPlatform, ctx: LinkContext): string | null {
  if (isHttp(p.repoUrl)) return p.repoUrl;
  const key = p.repoKey ?? p.platform;
  return ctx.besideRepos && p.repoUrl !== null ? `../${key.split('/').map(encodeURIComponent).join('/')}/index.html` : null;
}

function timelineRow(e: Entry, ctx: LinkContext) {
  const s = e.series;
  return {
    runId: e.run.runId,
    date: e.run.date.slice(0, 16).replace('T', ' '),
    series: s.subject,
    seriesId: s.id,
    commit: s.commit ? s.commit.slice(0, 12) : null,
    result: s.result,
    failedAt: s.failedAt,
    platforms: s.platforms.map((p) => ({
      platform: p.platform,
      build: p.build,
      publish: p.publish,
      logs: p.logs.map((l) => ({ name: l.name, href: existsSync(join(ctx.pageDir, l.file)) ? href(l.file) : null })),
      task: p.task,
      repo: repoLink(p, ctx),
    })),
  };
}

function branchRow(repo: string, branch: string, entries: Entry[], now: Date, ctx: LinkContext) {
  const last = entries.at(-1);
  const lastOk = entries.findLastIndex((e) => e.series.result === 'passed');
  const firstFail = entries.slice(lastOk + 1).find((e) => e.series.result === 'failed');
  const okDate = lastOk >= 0 ? entries[lastOk]!.run.date : null;
  return {
    repo,
    branch,
    runs: entries.length,
    last: last ? last.series.result : 'none',
    lastRun: last?.run.runId ?? null,
    firstFailure: firstFail && lastOk >= 0 ? `${firstFail.run.runId} (${firstFail.series.id})` : null,
    daysSinceSuccess: okDate ? Math.floor((now.getTime() - Date.parse(okDate)) / DAY) : null,
    timeline: entries.map((e) => timelineRow(e, ctx)).reverse(),
  };
}

/** The page for the configured repos and branches, from the history (oldest run first). */
export function renderStatusPage(history: readonly HistoryRun[], config: Config, templates: Templates, ctx: LinkContext, now = new Date()): string {
  const byBranch = new Map<string, Entry[]>();
  for (const [repo, rc] of Object.entries(config.repos)) for (const b of rc.branches) byBranch.set(`${repo}\0${b}`, []);
  for (const run of history) for (const series of run.series) byBranch.get(`${series.repo}\0${series.branch}`)?.push({ run, series });
  const branches = [...byBranch.entries()].map(([key, entries]) => {
    const [repo, branch] = key.split('\0') as [string, string];
    return branchRow(repo, branch, entries, now, ctx);
  });
  return templates.render('status.html.hbs', { stylesheet: STYLESHEET, generated: now.toISOString().slice(0, 16).replace('T', ' '), runs: history.length, latest: history.at(-1)?.runId ?? null, branches });
}

/** The stylesheet: the user's templates folder may hold its own status.css. */
function stylesheetFile(loaded: LoadedConfig): string {
  const dir = loaded.config.report?.templatesDir;
  const own = dir === undefined ? undefined : join(resolveFrom(loaded.baseDir, dir), STYLESHEET);
  return own !== undefined && existsSync(own) ? own : join(TEMPLATES_DIR, STYLESHEET);
}

function writePage(dir: string, file: string, html: string, stylesheet: string): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(stylesheet, join(dir, STYLESHEET));
  writeFileAtomic(join(dir, file), html);
}

/**
 * Beside the repos: the stable folder mirrored into <destination>/status (for a remote
 * destination: into its local mirror, then rsync'd), with the page's repo links made relative.
 */
async function publishBesideRepos(loaded: LoadedConfig, statusDir: string, page: (ctx: LinkContext) => string): Promise<string> {
  const settings = publishSettings(loaded);
  const local = join(settings.root, STATUS_DIR);
  mkdirSync(local, { recursive: true });
  await rsyncTree(statusDir, local, { delete: true, exclude: ['/index.html'] });
  writeFileAtomic(join(local, 'index.html'), page({ pageDir: local, besideRepos: true }));
  if (!settings.remote) return join(local, 'index.html');
  const remote = `${settings.remote}/${STATUS_DIR}`;
  await rsyncTree(local, remote, { ...settings.rsync, delete: true });
  return `${remote}/index.html`;
}

export interface StatusPagesInput {
  loaded: LoadedConfig;
  runDir: string;
  /** This run's result files. */
  files: RunFiles;
  templates: Templates;
  log: Logger;
  now: Date;
  /** Write only into the run dir (the history and the stable copy stay as they are). */
  dryRun: boolean;
}

/** Record this run in the history and write every copy of the page. */
export async function writeStatusPages({ loaded, runDir, files, templates, log, now, dryRun }: StatusPagesInput): Promise<void> {
  const { config, stateDir } = loaded;
  const statusDir = join(stateDir, STATUS_DIR);
  const stylesheet = stylesheetFile(loaded);
  const { run, logs } = historyRecord(files, now);
  if (!dryRun) {
    importReportedRuns(stateDir, statusDir, log);
    copyLogs(logs, statusDir);
    writeHistoryRun(stateDir, run);
  }
  const history = [...readHistoryRuns(stateDir, log).filter((r) => r.key !== run.key), run].sort(byTime);
  const page = (ctx: LinkContext) => renderStatusPage(history, config, templates, ctx, now);

  // the run's own copy links only this run's logs, copied beside it: report/ is what Jenkins keeps of the run
  const reportDir = join(runDir, 'report');
  copyLogs(logs, reportDir);
  writePage(reportDir, 'status.html', page({ pageDir: reportDir, besideRepos: false }), stylesheet);
  if (dryRun) return;

  pruneLogCopies(statusDir, history);
  writePage(statusDir, 'index.html', page({ pageDir: statusDir, besideRepos: false }), stylesheet);
  writeFileAtomic(join(statusDir, 'latest'), `${run.runId}\n`);
  log.info(`report: status page ${join(statusDir, 'index.html')} (${history.length} run${history.length === 1 ? '' : 's'})`);
  if (config.publish?.destination === undefined) return;
  if ((config.platforms ?? []).some((p) => p.name === STATUS_DIR)) {
    log.warn(`report: status page not published beside the repos: a platform is named "${STATUS_DIR}"`);
    return;
  }
  try {
    const where = await publishBesideRepos(loaded, statusDir, page);
    log.info(`report: status page published: ${where}`);
  } catch (err) {
    log.warn(`report: status page not published beside the repos: ${asPatchlineError(err, 'EPUBLISH').message}`);
  }
}

/** Where the stable copy of the page is (for messages). */
export function statusPageOf(stateDir: string): string {
  return join(stateDir, STATUS_DIR, 'index.html');
}

