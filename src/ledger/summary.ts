import type { Config } from '../core/config-types.js';
import type { OwedMail } from './harvest-runs.js';
import { outcomeKey, standing, unfinished, type Standing } from './progress.js';
import type { Ledger } from './store.js';
import type { LedgerEntry } from './types.js';
import type { Only } from './work.js';

/** What earlier runs left undone: what `patchline run` resumes, and what `patchline status` shows. */
export interface Unfinished {
  /** Series a step still has work for, or whose outcome is not mailed yet. */
  series: number;
  notApplied: number;
  notBuilt: number;
  notPublished: number;
  /** Failed for a cause that heals by itself: the next run retries. */
  waiting: number;
  notReported: number;
  /** Outboxes with mail still to deliver, and harvests whose problems are not mailed. */
  mail: number;
  /** Failed on a conflict: tried again once their branch moved, which only apply can see (it fetches). */
  conflicts: number;
  /** The oldest run that harvested an unfinished series. */
  oldestRun?: string;
  /** How many runs harvested the unfinished series. */
  runs: number;
}

function matches(e: LedgerEntry, only: Only): boolean {
  return (only.repo === undefined || e.repo === only.repo) && (only.branch === undefined || e.branch === only.branch);
}

/** Whether a run has anything to do for the entry: a stage pending or waiting, or its outcome not mailed. */
export function hasWork(e: LedgerEntry, s: Standing): boolean {
  if (unfinished(s)) return true;
  const key = outcomeKey(e, s);
  return key !== undefined && e.reported?.key !== key;
}

export function unfinishedWork(ledger: Ledger, config: Config, owed: OwedMail, only: Only = {}): Unfinished {
  const u: Unfinished = { series: 0, notApplied: 0, notBuilt: 0, notPublished: 0, waiting: 0, notReported: 0, mail: owed.outboxes.length + owed.harvests.filter((h) => !h.mailedIn).length, runs: 0, conflicts: 0 };
  const runs = new Set<string>();
  for (const e of ledger.all()) {
    if (e.closed || !matches(e, only)) continue;
    const s = standing(e, config);
    if (s.state === 'failed' && s.stage === 'apply' && e.apply?.result.failure?.kind === 'conflict') u.conflicts++;
    if (!hasWork(e, s)) continue;
    u.series++;
    if (s.state === 'waiting') u.waiting++;
    else if (s.state === 'pending') {
      if (s.stage === 'apply') u.notApplied++;
      else if (s.stage === 'build') u.notBuilt++;
      else u.notPublished++;
    } else u.notReported++;
    if (u.oldestRun === undefined || e.harvested.run < u.oldestRun) u.oldestRun = e.harvested.run;
    runs.add(e.harvested.run);
  }
  u.runs = runs.size;
  return u;
}

/** "4 series left by run 20261201T020000Z: 3 not applied, 1 not published" (empty when nothing is left). */
export function describeUnfinished(u: Unfinished): string {
  const parts = (
    [
      [u.notApplied, 'not applied'],
      [u.notBuilt, 'not built'],
      [u.notPublished, 'not published'],
      [u.waiting, 'waiting to retry'],
      [u.notReported, 'not reported'],
    ] as const
  )
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`);
  const more = [
    u.mail > 0 ? `${u.mail} mail batch${u.mail === 1 ? '' : 'es'} to deliver` : '',
    u.conflicts > 0 ? `${u.conflicts} conflicting series (applied again if their branch moved)` : '',
  ].filter(Boolean).join('; ');
  if (u.series === 0) return more;
  return `${u.series} series left by run ${u.oldestRun}${u.runs > 1 ? ` and ${u.runs - 1} later run${u.runs > 2 ? 's' : ''}` : ''}: ${parts.join(', ')}${more ? `; ${more}` : ''}`;
}

/** Nothing for a run to do, not even to look whether a conflicting series' branch moved. */
export function isEmpty(u: Unfinished): boolean {
  return u.series === 0 && u.mail === 0 && u.conflicts === 0;
}
