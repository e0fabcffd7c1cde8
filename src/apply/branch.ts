import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { asPatchlineError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { Git } from '../git/git.js';
import { findAppliedPatches, type FoundPatch, type PatchToApply } from './already-applied.js';
import { amPatches } from './am.js';
import { fetchBranches } from './clone.js';
import { pushHead, pushRefs, stagingRef } from './push.js';
import type { ApplySettings } from './settings.js';
import { failedSeries, type BranchApplyResult, type SeriesApplyResult } from './types.js';

export interface SeriesToApply {
  id: string;
  repo: string;
  branch: string;
  patches: PatchToApply[];
}

export interface BranchJob {
  repo: string;
  branch: string;
  /** The branch pushed to (the branch itself, or a staging name). */
  target: string;
  series: SeriesToApply[];
  settings: ApplySettings;
  /** Apply in a throwaway worktree and push nothing. */
  dryRun: boolean;
  /** Gated: each applied series goes to its staging ref, the branch moves only when its gate passed (promote.ts). */
  staged: boolean;
  /** Where throwaway worktrees go. */
  tmpDir: string;
}

/** The tip to apply on: the staging branch when it exists already, else the configured branch. */
export async function remoteTip(git: Git, job: BranchJob): Promise<string | undefined> {
  return (await git.revParse(`refs/remotes/origin/${job.target}`)) ?? (await git.revParse(`refs/remotes/origin/${job.branch}`));
}

function checkApplied(git: Git, tip: string, series: SeriesToApply, settings: ApplySettings): Promise<FoundPatch[]> {
  return findAppliedPatches(git, tip, series.patches, { depth: settings.searchDepth, linkUrl: settings.linkUrl });
}

/** One series on HEAD; `found` is its already-applied check when it was started earlier. */
async function applySeries(git: Git, series: SeriesToApply, settings: ApplySettings, progress: Progress, found?: Promise<FoundPatch[]>): Promise<SeriesApplyResult> {
  const baseCommit = (await git.revParse('HEAD'))!;
  const result: SeriesApplyResult = { id: series.id, repo: series.repo, branch: series.branch, status: 'applied', baseCommit, commits: [], alreadyApplied: [] };
  result.alreadyApplied = await (found ?? checkApplied(git, baseCommit, series, settings));
  const done = new Set(result.alreadyApplied.map((f) => f.number));
  const todo = series.patches.filter((p) => !done.has(p.number));
  for (const p of series.patches) if (done.has(p.number)) progress.tick(`${p.subject} (already applied)`);
  if (todo.length === 0) return { ...result, status: 'already-applied' };
  const outcome = await amPatches(git, todo, { threeWay: settings.threeWay, linkUrl: settings.linkUrl }, progress);
  if (!outcome.ok) return { ...result, status: 'failed', failure: outcome.failure };
  return { ...result, commits: outcome.commits };
}

/** Every series of the job, in order, on HEAD; a failed one leaves HEAD where it was and the next goes on. */
async function applyAll(git: Git, job: BranchJob, progress: Progress, firstFound: Promise<FoundPatch[]>): Promise<SeriesApplyResult[]> {
  const results: SeriesApplyResult[] = [];
  for (const [i, series] of job.series.entries()) {
    try {
      results.push(await applySeries(git, series, job.settings, progress, i === 0 ? firstFound : undefined));
    } catch (err) {
      results.push(failedSeries(series, { kind: 'git', files: [], message: asPatchlineError(err, 'EGIT').message }));
    }
  }
  return results;
}

/** Every series of the job failed for one reason (series already failed or already applied keep their own record). */
export function failAll(job: Pick<BranchJob, 'series'>, kind: 'git' | 'push', message: string, earlier?: SeriesApplyResult[]): SeriesApplyResult[] {
  return job.series.map((s, i) => {
    const before = earlier?.[i];
    return before && before.status !== 'applied' ? before : failedSeries(s, { kind, files: [], message }, before);
  });
}

/** Name prefix of a repo's throwaway worktrees in the tmp dir: `%` and `@` never occur in repo names, so no prefix is another's. */
export function throwawayPrefix(repo: string): string {
  return `${encodeURIComponent(repo)}@`;
}

/** Throwaway worktrees a killed dry run left behind (the caller holds the repo's lock). */
export function removeThrowawayWorktrees(tmpDir: string, repo: string): void {
  for (const name of readdirSync(tmpDir)) if (name.startsWith(throwawayPrefix(repo))) rmSync(join(tmpDir, name), { recursive: true, force: true });
}

/** A detached worktree at `tip` in a temp dir, for a dry run. */
async function throwawayWorktree(clone: Git, job: BranchJob, tip: string): Promise<Git> {
  const dir = mkdtempSync(join(job.tmpDir, throwawayPrefix(job.repo)));
  await clone.run(['worktree', 'add', '--quiet', '--detach', '--', dir, tip]);
  return new Git(dir, cloneEnv(job));
}

export function cloneEnv(job: Pick<BranchJob, 'settings'>): Record<string, string> {
  return { GIT_COMMITTER_NAME: job.settings.committer.name, GIT_COMMITTER_EMAIL: job.settings.committer.email };
}

/**
 * Apply the series of one repo/branch on the remote's tip and push once. When the push is
 * rejected because the remote moved: fetch, apply everything again on the new tip, push once more.
 */
export async function applyBranch(clone: Git, job: BranchJob, progress: Progress): Promise<{ branch: BranchApplyResult; series: SeriesApplyResult[] }> {
  const branch: BranchApplyResult = { repo: job.repo, branch: job.branch, target: job.target, pushed: false, retried: false };
  for (let attempt = 0; ; attempt++) {
    const tip = await remoteTip(clone, job);
    if (!tip) {
      const message = `branch ${job.branch} does not exist on the remote of ${job.repo}`;
      return { branch: { ...branch, error: { code: 'EGIT', message } }, series: failAll(job, 'git', message) };
    }
    branch.baseCommit = tip;
    // The first series' check only reads history: it runs while the tip is checked out.
    const firstFound = checkApplied(clone, tip, job.series[0]!, job.settings);
    firstFound.catch(() => undefined); // awaited (and reported) in applyAll; not unhandled if the checkout fails first
    const git = job.dryRun ? await throwawayWorktree(clone, job, tip) : clone;
    let series: SeriesApplyResult[];
    try {
      if (!job.dryRun) await clone.run(['checkout', '--quiet', '--force', '--detach', tip]);
      series = await applyAll(git, job, progress, firstFound);
      branch.head = (await git.revParse('HEAD'))!;
    } finally {
      if (job.dryRun) {
        await clone.run(['worktree', 'remove', '--force', '--', git.dir], { allowFailure: true });
        rmSync(git.dir, { recursive: true, force: true });
      }
    }
    if (job.dryRun || !job.settings.push || branch.head === tip) return { branch, series };
    if (job.staged) return stageSeries(clone, job, branch, series);
    const push = await pushHead(clone, job.target);
    if (push.ok) return { branch: { ...branch, pushed: true }, series };
    if (push.rejected && attempt === 0) {
      branch.retried = true;
      await fetchBranches(clone, [...new Set([job.branch, job.target])]);
      continue;
    }
    const message = `push to ${job.target} ${push.rejected ? 'rejected again after re-applying on the new tip' : 'failed'}: ${push.message}`;
    return { branch: { ...branch, error: { code: 'EPUSH', message } }, series: failAll(job, 'push', message, series) };
  }
}

/** Gated: each applied series' last commit to its staging ref (forced: a series applied again replaces its old one); the branch stays. */
async function stageSeries(clone: Git, job: BranchJob, branch: BranchApplyResult, series: SeriesApplyResult[]): Promise<{ branch: BranchApplyResult; series: SeriesApplyResult[] }> {
  const refspecs = series.filter((s) => s.status === 'applied' && s.commits.length > 0).map((s) => `+${s.commits.at(-1)!.sha}:refs/heads/${stagingRef(s.id)}`);
  const push = await pushRefs(clone, refspecs);
  if (push.ok) return { branch: { ...branch, pushed: true }, series };
  const message = `push to the staging refs failed: ${push.message}`;
  return { branch: { ...branch, error: { code: 'EPUSH', message } }, series: failAll(job, 'push', message, series) };
}
