import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Logger } from '../core/log.js';
import type { Config } from '../core/config-types.js';
import { runOutcomes, type SeriesOutcome } from './outcome.js';
import { readRunFiles, runDate, type RunFiles } from './run-files.js';
import type { Templates } from './templates.js';

/** Every run under the runs dir (the run dir's parent), oldest first; unreadable ones are skipped with a warning. */
export function readHistory(runDir: string, log: Logger): RunFiles[] {
  const runsDir = dirname(resolve(runDir));
  const runs: RunFiles[] = [];
  for (const d of readdirSync(runsDir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    try {
      runs.push(readRunFiles(join(runsDir, d.name)));
    } catch (err) {
      log.warn(`status page: run ${d.name} left out: ${(err as Error).message}`);
    }
  }
  const time = (r: RunFiles) => runDate(r)?.getTime() ?? 0;
  return runs.sort((a, b) => time(a) - time(b) || a.runId.localeCompare(b.runId));
}

const DAY = 24 * 3600 * 1000;

interface Entry {
  run: RunFiles;
  date: Date | undefined;
  outcome: SeriesOutcome;
}

/** A link from the status page to a file, only when that file exists. */
function linkTo(reportDir: string, path: string): string | null {
  return existsSync(path) ? relative(reportDir, path).split('/').map(encodeURIComponent).join('/') : null;
}

function timelineRow(reportDir: string, e: Entry) {
  const o = e.outcome;
  const commit = o.apply?.commits.at(-1)?.sha ?? o.builds.find((b) => b.commit)?.commit ?? null;
  const platforms = [...new Set([...o.builds.map((b) => b.platform), ...o.repos.map((r) => r.platform)])].sort();
  return {
    runId: e.run.runId,
    date: e.date?.toISOString().slice(0, 16).replace('T', ' ') ?? '?',
    series: o.series.subject ?? o.series.id,
    seriesId: o.series.id,
    commit: commit ? commit.slice(0, 12) : null,
    result: o.failed ? 'failed' : 'passed',
    failedAt: o.failed ? `${o.failed.stage}${o.failed.platform ? ` ${o.failed.platform}` : ''}` : null,
    platforms: platforms.map((p) => {
      const build = o.builds.find((b) => b.platform === p);
      const repo = o.repos.find((r) => r.platform === p);
      const publish = o.stages.find((s) => s.stage === 'publish' && s.platform === p);
      return {
        platform: p,
        build: build?.state ?? 'none',
        publish: publish?.status ?? 'none',
        logs: (build?.logs ?? []).flatMap((l) => {
          const href = linkTo(reportDir, resolve(e.run.runDir, l));
          return href ? [{ name: l.split('/').pop()!, href }] : [];
        }),
        repo: repo ? linkTo(reportDir, join(repo.path, 'index.html')) : null,
      };
    }),
  };
}

function branchRow(reportDir: string, repo: string, branch: string, entries: Entry[], now: Date) {
  const last = entries.at(-1);
  const lastOk = entries.findLastIndex((e) => !e.outcome.failed);
  const firstFail = entries.slice(lastOk + 1).find((e) => e.outcome.failed);
  const okDate = lastOk >= 0 ? entries[lastOk]!.date : undefined;
  return {
    repo,
    branch,
    runs: entries.length,
    last: last ? (last.outcome.failed ? 'failed' : 'passed') : 'none',
    lastRun: last?.run.runId ?? null,
    firstFailure: firstFail && lastOk >= 0 ? `${firstFail.run.runId} (${firstFail.outcome.series.id})` : null,
    daysSinceSuccess: okDate ? Math.floor((now.getTime() - okDate.getTime()) / DAY) : null,
    timeline: entries.map((e) => timelineRow(reportDir, e)).reverse(),
  };
}

/** status.html: per configured repo/branch the last result, first failure after success, days since success, and the timeline. */
export function renderStatusPage(history: RunFiles[], config: Config, reportDir: string, templates: Templates, now = new Date()): string {
  const byBranch = new Map<string, Entry[]>();
  for (const [repo, rc] of Object.entries(config.repos)) for (const b of rc.branches) byBranch.set(`${repo}\0${b}`, []);
  for (const run of history) {
    for (const outcome of runOutcomes(run)) {
      byBranch.get(`${outcome.series.repo}\0${outcome.series.branch}`)?.push({ run, date: runDate(run), outcome });
    }
  }
  const branches = [...byBranch.entries()].map(([key, entries]) => {
    const [repo, branch] = key.split('\0') as [string, string];
    return branchRow(reportDir, repo, branch, entries, now);
  });
  return templates.render('status.html.hbs', { generated: now.toISOString().slice(0, 16).replace('T', ' '), runs: history.length, branches });
}
