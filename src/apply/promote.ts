import type { StepContext } from '../core/step-context.js';
import { asPatchlineError } from '../core/errors.js';
import type { Git } from '../git/git.js';
import { standing } from '../ledger/progress.js';
import type { Ledger } from '../ledger/store.js';
import type { LedgerEntry } from '../ledger/types.js';
import { advanceConflictTips, builtCommit, recordPush, restage } from '../ledger/work.js';
import { cloneEnv } from './branch.js';
import { cloneDir, fetchBranches, openClone, remoteUrl } from './clone.js';
import { pushRefs, stagingRef } from './push.js';
import { applySettings } from './settings.js';
import { lockClone } from './step.js';

export interface Promotion {
  pushed: string[];
  /** Their branch moved before their gate passed: applied again on the new tip (and built and tested again). */
  restaged: string[];
  failed: string[];
}

/** Gated series whose gate passed and whose branch has not moved to them yet, per repo and target branch, in the order they were stacked. */
function readyToPush(ledger: Ledger, ctx: StepContext): Map<string, Map<string, LedgerEntry[]>> {
  const out = new Map<string, Map<string, LedgerEntry[]>>();
  for (const e of ledger.all()) {
    if (e.closed || !e.apply?.staged || e.pushed?.ok) continue;
    if ((ctx.options.repo !== undefined && e.repo !== ctx.options.repo) || (ctx.options.branch !== undefined && e.branch !== ctx.options.branch)) continue;
    const s = standing(e, ctx.loaded.config);
    if (s.stage !== 'push' || (s.state !== 'pending' && s.state !== 'waiting')) continue;
    const byTarget = out.get(e.repo) ?? new Map<string, LedgerEntry[]>();
    out.set(e.repo, byTarget);
    const target = e.apply.target ?? e.branch;
    byTarget.set(target, [...(byTarget.get(target) ?? []), e]);
  }
  for (const byTarget of out.values()) {
    // stack order: the apply that stacked them (run, then its time), then their place in it
    const when = (e: LedgerEntry) => `${e.apply!.run}\0${e.apply!.at}`;
    for (const list of byTarget.values()) list.sort((x, y) => (when(x) === when(y) ? (x.apply!.order ?? 0) - (y.apply!.order ?? 0) : when(x) < when(y) ? -1 : 1));
  }
  return out;
}

/** Fast-forward one target branch through its series, in stack order, while each sits on the tip. */
async function promoteTarget(clone: Git, repo: string, target: string, list: LedgerEntry[], ctx: StepContext, ledger: Ledger, out: Promotion): Promise<void> {
  await fetchBranches(clone, [...new Set([target, ...list.map((e) => e.branch)])]);
  const start = (await clone.revParse(`refs/remotes/origin/${target}`)) ?? (await clone.revParse(`refs/remotes/origin/${list[0]!.branch}`));
  let tip = start;
  const at = () => new Date().toISOString();
  for (const e of list) {
    const result = e.apply!.result;
    const head = builtCommit(result)?.commit;
    if (!head || result.baseCommit !== tip) {
      const why = `${e.repo}/${target} moved to ${tip?.slice(0, 12) ?? 'nothing'} while the series waited on ${stagingRef(e.id)} (applied on ${result.baseCommit?.slice(0, 12) ?? '?'})`;
      ctx.log.info(`${e.id}: ${why}: it is applied again on the new tip`);
      restage(ledger, e.id, why, ctx.runId, at());
      out.restaged.push(e.id);
      continue;
    }
    // the branch to the series (a fast-forward, never forced) and the staging ref away, in one atomic push
    const push = await pushRefs(clone, [`${head}:refs/heads/${target}`, `:refs/heads/${stagingRef(e.id)}`]);
    if (push.ok) {
      recordPush(ledger, e.id, { ok: true, head }, ctx.runId, at());
      ctx.log.info(`${e.id}: its gate passed: ${e.repo}/${target} moved to ${head.slice(0, 12)}`);
      out.pushed.push(e.id);
      tip = head;
      continue;
    }
    if (push.rejected) {
      restage(ledger, e.id, `${e.repo}/${target} moved under the push: ${push.message}`, ctx.runId, at());
      out.restaged.push(e.id);
      await fetchBranches(clone, [target]);
      tip = await clone.revParse(`refs/remotes/origin/${target}`);
      continue;
    }
    ctx.log.warn(`${e.id}: push to ${e.repo}/${target} failed (the next run tries again): ${push.message}`);
    recordPush(ledger, e.id, { ok: false, retry: 'auto', message: `push to ${target} failed: ${push.message}` }, ctx.runId, at());
    out.failed.push(e.id);
  }
  // patchline moved the branch itself: the series that conflicted on its old tip are not retried for that
  if (start && tip && tip !== start) advanceConflictTips(ledger, repo, start, tip);
}

/**
 * The gate's second half: every gated series whose builds (and tests) passed moves its branch,
 * fast-forward only, in the order the series were stacked. A series whose branch moved meanwhile
 * (another push, or a series before it that failed its gate) is applied again on the new tip by the
 * next apply (`patchline run` does that in the same run): it is never pushed untested.
 */
export async function promoteGated(ctx: StepContext, ledger: Ledger): Promise<Promotion> {
  const out: Promotion = { pushed: [], restaged: [], failed: [] };
  const { config, stateDir, baseDir } = ctx.loaded;
  for (const [repo, byTarget] of readyToPush(ledger, ctx)) {
    const settings = applySettings(config, repo);
    const lock = await lockClone(stateDir, repo, ctx.log);
    try {
      const clone = await openClone(cloneDir(stateDir, repo), remoteUrl(config.repos[repo]!.url, baseDir), [...byTarget.keys()], cloneEnv({ settings }));
      for (const [target, list] of byTarget) await promoteTarget(clone, repo, target, list, ctx, ledger, out);
    } catch (err) {
      const e = asPatchlineError(err, 'EGIT');
      ctx.log.warn(`${repo}: cannot move the gated branches (the next run tries again): ${e.message}`);
      for (const list of byTarget.values()) for (const s of list) if (!out.pushed.includes(s.id) && !out.restaged.includes(s.id)) recordPush(ledger, s.id, { ok: false, retry: 'auto', message: e.message }, ctx.runId, new Date().toISOString());
    } finally {
      lock.release();
    }
  }
  return out;
}
