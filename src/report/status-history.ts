/**
 * The status page's history, kept in the state dir: one small record per reported run
 * (`<stateDir>/status-history/<run-id>.json`), written by the report step. A run dir may be gone
 * by the next run (Jenkins deletes its workspace copy each build): the page never reads one but
 * the run it reports.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeJsonAtomic } from '../core/fsutil.js';
import type { Logger } from '../core/log.js';
import { runOutcomes, type SeriesOutcome } from './outcome.js';
import { readRunFiles, runDate, type RunFiles } from './run-files.js';

export const HISTORY_DIR = 'status-history';
/** Build logs are copied beside a page, under logs/<run key>/. */
export const LOGS_DIR = 'logs';
/** The runs whose log copies the state dir keeps (the newest): older rows show their log names unlinked. */
export const LOG_RUNS_KEPT = 30;

export interface HistoryLog {
  name: string;
  /** Where the copy goes, relative to a page's dir: logs/<run key>/<n>-<name>. */
  file: string;
}

export interface HistoryPlatform {
  platform: string;
  build: string;
  publish: string;
  /** The logs of a build that failed. */
  logs: HistoryLog[];
  /** The Koji task page. */
  task: string | null;
  /** The repo's public URL (publish.json). */
  repoUrl: string | null;
  /** Its path under the publish destination (publish.layout); absent in history from before repos per branch. */
  repoKey?: string;
}

export interface HistorySeries {
  repo: string;
  branch: string;
  id: string;
  subject: string;
  commit: string | null;
  result: 'passed' | 'failed' | 'waiting';
  failedAt: string | null;
  platforms: HistoryPlatform[];
}

export interface HistoryRun {
  /** Names the record and the run's log copies: the run id, prefixed by the run's time unless it is one patchline gave. */
  key: string;
  runId: string;
  /** ISO time of the run. */
  date: string;
  series: HistorySeries[];
}

/** A log to copy beside a page: the file in the run dir (or wherever the ledger recorded it), and its place. */
export interface LogCopy {
  source: string;
  file: string;
}

/** The ids patchline gives run dirs (results.ts): unique by themselves. */
const RUN_ID = /^\d{8}T\d{6}Z(-\d+)?$/;

const isHttp = (url: string | undefined): url is string => url !== undefined && /^https?:\/\//.test(url);
const failedBuild = (state: string) => state !== 'built' && state !== 'skipped';

function seriesRecord(files: RunFiles, key: string, o: SeriesOutcome, copies: LogCopy[]): HistorySeries {
  const commit = o.apply?.commits.at(-1)?.sha ?? o.builds.find((b) => b.commit)?.commit ?? null;
  const names = [...new Set([...o.builds.map((b) => b.platform), ...o.repos.map((r) => r.platform)])].sort();
  const platforms = names.map((platform): HistoryPlatform => {
    const build = o.builds.find((b) => b.platform === platform);
    const repo = o.repos.find((r) => r.platform === platform);
    const publish = o.stages.find((s) => s.stage === 'publish' && s.platform === platform);
    const logs = (build && failedBuild(build.state) ? build.logs : []).map((l): HistoryLog => {
      const name = basename(l);
      const file = `${LOGS_DIR}/${key}/${copies.length + 1}-${name}`;
      copies.push({ source: resolve(files.runDir, l), file });
      return { name, file };
    });
    return { platform, build: build?.state ?? 'none', publish: publish?.status ?? 'none', logs, task: isHttp(build?.url) ? build.url : null, repoUrl: repo?.url ?? null, ...(repo?.key ? { repoKey: repo.key } : {}) };
  });
  return {
    repo: o.series.repo,
    branch: o.series.branch,
    id: o.series.id,
    subject: o.series.subject ?? o.series.id,
    commit,
    result: o.failed ? 'failed' : o.held ? 'waiting' : 'passed',
    failedAt: o.failed ? `${o.failed.stage}${o.failed.platform ? ` ${o.failed.platform}` : ''}` : null,
    platforms,
  };
}

/** What the page keeps of one run, and the logs to copy beside it. */
export function historyRecord(files: RunFiles, now = new Date()): { run: HistoryRun; logs: LogCopy[] } {
  const date = runDate(files) ?? now;
  const stamp = date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  // a run dir used again under the same name (--run-dir patchline-run) is another run: its time tells them apart
  const key = RUN_ID.test(files.runId) ? files.runId : `${stamp}-${files.runId}`;
  const logs: LogCopy[] = [];
  const series = runOutcomes(files).map((o) => seriesRecord(files, key, o, logs));
  return { run: { key, runId: files.runId, date: date.toISOString(), series }, logs };
}

/** Copy the logs that still exist into `pageDir` (a run's report/ or the status dir). */
export function copyLogs(logs: readonly LogCopy[], pageDir: string): void {
  for (const l of logs) {
    if (!existsSync(l.source)) continue;
    const to = join(pageDir, l.file);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(l.source, to);
  }
}

/** Oldest first (ISO times sort as strings). */
export const byTime = (a: HistoryRun, b: HistoryRun): number => a.date.localeCompare(b.date) || a.key.localeCompare(b.key);

const historyDir = (stateDir: string) => join(stateDir, HISTORY_DIR);

export function writeHistoryRun(stateDir: string, run: HistoryRun): void {
  writeJsonAtomic(join(historyDir(stateDir), `${run.key}.json`), run);
}

function isHistoryRun(v: unknown): v is HistoryRun {
  const r = v as HistoryRun;
  return typeof r === 'object' && r !== null && typeof r.key === 'string' && typeof r.runId === 'string' && typeof r.date === 'string' && Array.isArray(r.series) && r.series.every((s) => typeof s?.repo === 'string' && Array.isArray(s.platforms));
}

/** Every recorded run, oldest first; an unreadable record is left out with a warning. */
export function readHistoryRuns(stateDir: string, log: Logger): HistoryRun[] {
  const dir = historyDir(stateDir);
  if (!existsSync(dir)) return [];
  const runs: HistoryRun[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    try {
      const run: unknown = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      if (!isHistoryRun(run)) throw new Error('not a history record');
      runs.push(run);
    } catch (err) {
      log.warn(`status page: ${join(dir, f)} left out: ${(err as Error).message}`);
    }
  }
  return runs.sort(byTime);
}

/**
 * Runs reported before the history existed: the run dirs under <stateDir>/runs/ whose report
 * made a status page, recorded once (their logs copied while they are there).
 */
export function importReportedRuns(stateDir: string, statusDir: string, log: Logger): void {
  const runsDir = join(stateDir, 'runs');
  if (!existsSync(runsDir)) return;
  const recorded = new Set(existsSync(historyDir(stateDir)) ? readdirSync(historyDir(stateDir)) : []);
  for (const id of readdirSync(runsDir)) {
    const runDir = join(runsDir, id);
    if ((RUN_ID.test(id) && recorded.has(`${id}.json`)) || !existsSync(join(runDir, 'report', 'status.html'))) continue;
    try {
      const { run, logs } = historyRecord(readRunFiles(runDir));
      if (recorded.has(`${run.key}.json`)) continue;
      copyLogs(logs, statusDir);
      writeHistoryRun(stateDir, run);
    } catch (err) {
      log.warn(`status page: run ${id} left out of the history: ${(err as Error).message}`);
    }
  }
}

/** Drop the log copies of all but the newest `keep` runs. */
export function pruneLogCopies(statusDir: string, history: readonly HistoryRun[], keep = LOG_RUNS_KEPT): void {
  const dir = join(statusDir, LOGS_DIR);
  if (!existsSync(dir)) return;
  const kept = new Set(history.slice(-keep).map((r) => r.key));
  for (const id of readdirSync(dir)) if (!kept.has(id)) rmSync(join(dir, id), { recursive: true, force: true });
}
