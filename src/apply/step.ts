import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, PatchlineError, asPatchlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Git } from '../git/git.js';
import { createProgress } from '../core/progress.js';
import { readResultIfExists, writeResult } from '../core/results.js';
import type { StepRun } from '../core/step-context.js';
import { Ledger } from '../ledger/store.js';
import { approval, gateOf } from '../ledger/progress.js';
import { applyWork, recordApply, recordHarvest, type Staging } from '../ledger/work.js';
import { stagingRef } from './push.js';
import { acquireRunLock, describeOwner, lockPath, type RunLock } from '../run/lock.js';
import { applyBranch, cloneEnv, failAll, remoteTip, removeThrowawayWorktrees, type BranchJob } from './branch.js';
import { cloneDir, openClone, remoteUrl } from './clone.js';
import { selectSeries } from './select.js';
import { applySettings, pushTarget } from './settings.js';
import type { ApplyResult, BranchApplyResult, SeriesApplyResult } from './types.js';

/** One apply at a time per working clone (Jenkins may run per-branch builds side by side); a killed owner's lock is taken over. */
export async function lockClone(stateDir: string, repo: string, log: Logger): Promise<RunLock> {
  const dir = join(stateDir, 'locks', `apply-${repo}`);
  try {
    return await acquireRunLock(dir, { waitMs: 15 * 60_000, staleMs: 120_000, command: `apply ${repo}`, onWait: (owner) => log.info(`${repo}: the working clone is in use by ${describeOwner(owner)}: waiting`) });
  } catch (err) {
    const e = asPatchlineError(err);
    if (e.code !== 'ELOCKED') throw e;
    throw new PatchlineError('ELOCKED', `the working clone of ${repo} stayed in use by another apply for 15 minutes (lock ${lockPath(dir)})`, { input: lockPath(dir) });
  }
}

/** A series that failed on a conflict is tried again only once its branch moved (or on `patchline retry`). */
async function dropUnmovedConflicts(clone: Git, job: BranchJob, conflictTips: ReadonlyMap<string, string>, log: Logger): Promise<void> {
  if (!job.series.some((s) => conflictTips.has(s.id))) return;
  const tip = await remoteTip(clone, job);
  job.series = job.series.filter((s) => {
    const waited = conflictTips.get(s.id);
    if (waited === undefined || waited !== tip) return true;
    log.info(`${s.id}: still waiting: it conflicted on ${job.repo}/${job.branch} at ${waited.slice(0, 12)}, which has not moved (patchline retry ${s.id} to try again)`);
    return false;
  });
}

/** 0 when nothing failed, 3 when some series failed and others went through, 1 when all failed. */
export function applyExitCode(series: readonly SeriesApplyResult[]): ExitCode {
  const failed = series.filter((s) => s.status === 'failed').length;
  if (failed === 0) return ExitCode.ok;
  return failed === series.length ? ExitCode.failed : ExitCode.partial;
}

export const runApplyStep: StepRun = async ({ loaded, runDir, runId, options, log }) => {
  const startedAt = new Date().toISOString();
  const { config, stateDir, baseDir } = loaded;
  const dryRun = options.dryRun === true;
  // the work comes from the ledger: every ready series not applied yet, from whatever run harvested it
  const ledger = Ledger.open(stateDir);
  const own = readResultIfExists(runDir, 'harvest')?.series ?? [];
  // the run's own harvest.json counts too (a harvest that died before the ledger had it; harvest.json written by hand)
  if (!dryRun) recordHarvest(ledger, own, runId, startedAt);
  const work = applyWork(ledger, { repo: options.repo, branch: options.branch });
  const candidates = dryRun ? [...work.series, ...own.filter((s) => !ledger.get(s.id))] : work.series;
  const { groups, refused } = selectSeries(candidates, config, stateDir, { repo: options.repo, branch: options.branch });
  for (const r of refused) log.warn(`${r.id}: refused: ${r.failure!.message}`);
  const branches: BranchApplyResult[] = [];
  const staging = new Map<string, Staging>();
  const stagedBranches = new Set<string>();
  const series: SeriesApplyResult[] = [...refused];
  const tmpDir = join(stateDir, 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  const patches = [...groups.values()].flatMap((b) => [...b.values()].flat()).reduce((n, s) => n + s.patches.length, 0);
  const progress = createProgress('apply', patches);
  /** A git failure outside any one series (clone, fetch, checkout): every series of the branch failed, the others go on. */
  const failBranch = (job: BranchJob, err: unknown) => {
    const e = asPatchlineError(err, 'EGIT');
    log.warn(`${job.repo}/${job.branch}: ${e.message}`);
    branches.push({ repo: job.repo, branch: job.branch, target: job.target, pushed: false, retried: false, error: { code: e.code, message: e.message } });
    series.push(...failAll(job, 'git', e.message));
  };
  try {
    for (const [repo, byBranch] of groups) {
      const settings = applySettings(config, repo);
      const jobs: BranchJob[] = [...byBranch].map(([branch, list]) => ({
        repo,
        branch,
        target: pushTarget(settings, { repo, branch, date: startedAt.slice(0, 10), runId }),
        series: list,
        settings,
        dryRun: dryRun || !settings.push,
        // gated, or a series from an untrusted sender on the branch: the series go to staging refs, the branch waits
        staged: gateOf(config, repo) !== 'none' || list.some((s) => { const e = ledger.get(s.id); return e !== undefined && approval(e, config) === undefined; }),
        tmpDir,
      }));
      let clone;
      let lock;
      try {
        lock = await lockClone(stateDir, repo, log);
        removeThrowawayWorktrees(tmpDir, repo); // before openClone, whose `git worktree prune` then forgets them
        const refs = [...new Set(jobs.flatMap((j) => [j.branch, j.target]))];
        clone = await openClone(cloneDir(stateDir, repo), remoteUrl(config.repos[repo]!.url, baseDir), refs, cloneEnv({ settings }));
      } catch (err) {
        lock?.release();
        for (const job of jobs) failBranch(job, err);
        continue;
      }
      try {
        for (const job of jobs) {
          try {
            await dropUnmovedConflicts(clone, job, work.conflictTips, log);
            if (job.series.length === 0) continue;
            const done = await applyBranch(clone, job, progress);
            branches.push(done.branch);
            series.push(...done.series);
            if (job.staged) stagedBranches.add(`${job.repo}\0${job.branch}`);
            if (job.staged && done.branch.pushed) {
              done.series.forEach((s, order) => {
                if (s.status === 'applied') staging.set(s.id, { staged: stagingRef(s.id), target: job.target, order });
              });
            }
          } catch (err) {
            failBranch(job, err);
          }
        }
      } finally {
        lock.release();
      }
    }
  } finally {
    progress.stop();
  }
  for (const s of series) {
    const where = staging.has(s.id) ? `${stagingRef(s.id)} (${s.repo}/${s.branch} moves when its gate passes)` : `${s.repo}/${s.branch}`;
    const what = s.status === 'failed' ? `failed: ${s.failure!.patch ? `patch ${s.failure!.patch.number} ` : ''}${s.failure!.message}` : s.status === 'applied' ? `${s.commits.length} commit(s) on ${where}` : 'already applied';
    log.info(`${s.id}: ${what}`);
  }
  const result: ApplyResult = { runId, startedAt, finishedAt: new Date().toISOString(), dryRun, branches, series };
  writeResult(runDir, 'apply', result, { round: options.round as number | undefined });
  // the tip a conflict was met on, as the branch stands after this step: a move by this step's own push is not news
  const tips = new Map(branches.map((b) => [`${b.repo}\0${b.branch}`, b.pushed && !stagedBranches.has(`${b.repo}\0${b.branch}`) ? (b.head ?? b.baseCommit) : b.baseCommit]));
  if (!dryRun) recordApply(ledger, series, tips, staging, runId, result.finishedAt);
  return applyExitCode(series);
};
