import type { SeriesApplyResult } from '../apply/types.js';
import type { BuildRecord } from '../build/types.js';
import type { SeriesResult } from '../harvest/types.js';
import type { PublishedRepo } from '../publish/types.js';
import type { Standing } from '../ledger/progress.js';
import type { LedgerEntry } from '../ledger/types.js';
import type { TestRecord } from '../pkgtest/types.js';
import type { RunFiles } from './run-files.js';

export type Stage = 'harvest' | 'apply' | 'approve' | 'build' | 'test' | 'push' | 'publish';
export type StageStatus = 'passed' | 'failed' | 'skipped';

/** One stage of one series (build and publish: one per platform): a JUnit test case, a status page cell. */
export interface StageResult {
  stage: Stage;
  platform?: string;
  status: StageStatus;
  message?: string;
}

/** Everything the run files say about one series. */
export interface SeriesOutcome {
  series: SeriesResult;
  apply?: SeriesApplyResult;
  builds: BuildRecord[];
  repos: PublishedRepo[];
  stages: StageResult[];
  /** The first failed stage, or undefined when every stage passed. */
  failed?: StageResult;
  /** For a failure that does not heal by itself: what the series waits for before it is tried again. */
  waitsFor?: string;
  /** Applied on its staging ref, waiting for a maintainer's approval: why. */
  held?: string;
  /** The package checks and tests per platform (apply.gate test). */
  tests: TestRecord[];
}

const notRun = (stage: Stage): string => `the ${stage} step did not run (no ${stage}.json in the run dir: it failed before writing it, or was never started)`;

function harvestStage(s: SeriesResult): StageResult {
  if (s.status === 'ready') return { stage: 'harvest', status: 'passed' };
  if (s.status === 'superseded') return { stage: 'harvest', status: 'skipped', message: `superseded by ${s.supersededBy ?? 'a newer version'}` };
  return { stage: 'harvest', status: 'failed', message: `incomplete: ${s.patches.length} of ${s.total} patches arrived${s.missing?.length ? `, missing ${s.missing.join(', ')}` : ''}` };
}

function applyStage(files: RunFiles, apply: SeriesApplyResult | undefined): StageResult {
  if (!files.apply) return { stage: 'apply', status: 'failed', message: notRun('apply') };
  if (!apply) return { stage: 'apply', status: 'skipped', message: 'not in apply.json (the run was limited to other repos or branches)' };
  if (apply.status === 'failed') {
    const f = apply.failure;
    const at = f?.patch ? `patch ${f.patch.number} "${f.patch.subject}" ` : '';
    return { stage: 'apply', status: 'failed', message: `${at}${f?.kind ?? 'failed'}: ${f?.message ?? 'no message'}` };
  }
  return { stage: 'apply', status: 'passed' };
}

function buildStages(files: RunFiles, builds: BuildRecord[]): StageResult[] {
  if (!files.build) return [{ stage: 'build', status: 'failed', message: notRun('build') }];
  if (builds.length === 0) return [{ stage: 'build', status: 'skipped', message: 'no build of this series in build.json' }];
  return builds.map((b) => {
    if (b.state === 'built') return { stage: 'build', platform: b.platform, status: 'passed' };
    if (b.state === 'skipped') return { stage: 'build', platform: b.platform, status: 'passed', message: b.message ?? 'already built' };
    return { stage: 'build', platform: b.platform, status: 'failed', message: `${b.state}: ${b.error?.message ?? b.message ?? 'no message'}` };
  });
}

/** The repo a build was published into: its platform, and its repo/branch (repos of publish.json before 0.2 name only the platform). */
export function repoOfBuild(repos: readonly PublishedRepo[], b: Pick<BuildRecord, 'platform' | 'repo' | 'branch'>): PublishedRepo | undefined {
  return repos.find((r) => r.platform === b.platform && (r.repo === undefined || (r.repo === b.repo && (b.branch === undefined || r.branch === b.branch))));
}

function publishStages(files: RunFiles, builds: BuildRecord[], repos: PublishedRepo[]): StageResult[] {
  const built = builds.filter((b) => b.state === 'built' || b.state === 'skipped');
  if (built.length === 0) return [];
  if (!files.publish) return [{ stage: 'publish', status: 'failed', message: notRun('publish') }];
  return built.map((b) => {
    const repo = repoOfBuild(repos, b);
    if (!repo || !b.rpms.some((f) => !f.endsWith('.src.rpm'))) return { stage: 'publish', platform: b.platform, status: 'skipped', message: 'no RPMs to publish' };
    if (repo.status === 'failed') return { stage: 'publish', platform: b.platform, status: 'failed', message: repo.error?.message ?? 'failed' };
    return { stage: 'publish', platform: b.platform, status: 'passed' };
  });
}

/** Stages after a failed one are skipped, with why. */
function skipAfter(stages: StageResult[][]): StageResult[] {
  const out: StageResult[] = [];
  let blocked: StageResult | undefined;
  for (const group of stages) {
    for (const r of group) out.push(blocked ? { stage: r.stage, ...(r.platform ? { platform: r.platform } : {}), status: 'skipped', message: `${blocked.stage} did not pass` } : r);
    blocked ??= group.find((r) => r.status !== 'passed' && !(r.stage === 'build' || r.stage === 'publish'));
  }
  return out;
}

export function seriesOutcome(files: RunFiles, series: SeriesResult): SeriesOutcome {
  const apply = files.apply?.series.find((a) => a.id === series.id);
  const builds = files.build?.builds.filter((b) => b.seriesId === series.id) ?? [];
  const repos = builds.flatMap((b) => repoOfBuild(files.publish?.repos ?? [], { ...b, branch: b.branch ?? series.branch }) ?? []);
  const stages = skipAfter([[harvestStage(series)], [applyStage(files, apply)], buildStages(files, builds), publishStages(files, builds, repos)]);
  return { series, apply, builds, repos, stages, failed: stages.find((s) => s.status === 'failed'), tests: [] };
}

/**
 * Outcomes of the series a run reports on: those the ledger snapshot of the run names (the series
 * the run worked on or mails), or for a run dir from before the ledger, the ready and incomplete
 * series of its harvest (superseded series are old news).
 */
export function runOutcomes(files: RunFiles): SeriesOutcome[] {
  if (files.ledger) {
    const unledgered = new Set(files.ledger.unledgered);
    const own = (files.harvest?.series ?? []).filter((s) => unledgered.has(s.id) && s.status !== 'superseded').map((s) => seriesOutcome(files, s));
    return [...files.ledger.series.filter((x) => x.entry.status !== 'superseded').map((x) => entryOutcome(x.entry, x.standing)), ...own];
  }
  return (files.harvest?.series ?? []).filter((s) => s.status !== 'superseded').map((s) => seriesOutcome(files, s));
}

/* ------------------------------------------------ from the ledger: a series reported by a later run */

const waiting = (what: string): string => `waiting: ${what}; the next run tries again`;

function ledgerApplyStage(e: LedgerEntry): StageResult {
  const a = e.apply;
  if (!a) return { stage: 'apply', status: 'skipped', message: 'not applied yet: the next run applies it' };
  if (a.result.status !== 'failed') return { stage: 'apply', status: 'passed' };
  const f = a.result.failure;
  const what = `${f?.patch ? `patch ${f.patch.number} "${f.patch.subject}" ` : ''}${f?.kind ?? 'failed'}: ${f?.message ?? 'no message'}`;
  return a.retry === 'auto' ? { stage: 'apply', status: 'skipped', message: waiting(what) } : { stage: 'apply', status: 'failed', message: what };
}

function ledgerBuildStages(e: LedgerEntry, s: Standing): StageResult[] {
  const out: StageResult[] = Object.entries(e.builds).map(([platform, b]) => {
    const r = b.record;
    if (r.state === 'built') return { stage: 'build', platform, status: 'passed' };
    if (r.state === 'skipped') return { stage: 'build', platform, status: 'passed', message: r.message ?? 'already built' };
    const what = `${r.state}: ${r.error?.message ?? r.message ?? 'no message'}`;
    return b.retry === 'auto' ? { stage: 'build', platform, status: 'skipped', message: waiting(what) } : { stage: 'build', platform, status: 'failed', message: what };
  });
  if (s.stage === 'build' && s.state === 'pending') for (const platform of s.platforms ?? []) if (!e.builds[platform]) out.push({ stage: 'build', platform, status: 'skipped', message: 'not built yet: the next run builds it' });
  return out;
}

function ledgerPublishStages(e: LedgerEntry): StageResult[] {
  return Object.entries(e.builds)
    .filter(([, b]) => (b.record.state === 'built' || b.record.state === 'skipped') && b.record.rpms.some((f) => !f.endsWith('.src.rpm')))
    .map(([platform]): StageResult => {
      const p = e.published[platform];
      if (!p) return { stage: 'publish', platform, status: 'skipped', message: 'not published yet: the next run publishes it' };
      if (p.repo.status === 'published') return { stage: 'publish', platform, status: 'passed' };
      return { stage: 'publish', platform, status: 'skipped', message: waiting(p.repo.error?.message ?? 'publish failed') };
    });
}

function ledgerApproveStage(e: LedgerEntry, s: Standing): StageResult[] {
  if (!e.apply || e.apply.result.status === 'failed') return [];
  if (s.state === 'held') return [{ stage: 'approve', status: 'skipped', message: s.reason ?? 'waiting for approval' }];
  return e.approved ? [{ stage: 'approve', status: 'passed', message: `approved by ${e.approved.by}` }] : [];
}

function ledgerTestStages(e: LedgerEntry, s: Standing): StageResult[] {
  const out: StageResult[] = Object.entries(e.tests ?? {}).map(([platform, t]): StageResult => {
    const r = t.result;
    if (r.state === 'passed') return { stage: 'test', platform, status: 'passed', message: `${r.checks.length} checks passed` };
    const failedChecks = r.checks.filter((c) => c.state === 'failed').map((c) => `${c.name}${c.message ? `: ${c.message}` : ''}`).join('; ');
    const what = failedChecks || r.message || r.error?.message || 'the checks could not run';
    return t.retry === 'auto' ? { stage: 'test', platform, status: 'skipped', message: waiting(what) } : { stage: 'test', platform, status: 'failed', message: what };
  });
  if (s.stage === 'test' && s.state === 'pending') for (const platform of s.platforms ?? []) if (!e.tests?.[platform]) out.push({ stage: 'test', platform, status: 'skipped', message: 'not tested yet: the next run tests it' });
  return out;
}

function ledgerPushStage(e: LedgerEntry, s: Standing): StageResult[] {
  if (!e.apply?.staged) return [];
  const target = `${e.repo}/${e.apply.target ?? e.branch}`;
  if (e.pushed?.ok) return [{ stage: 'push', status: 'passed', message: `${target} moved to ${e.pushed.head?.slice(0, 12) ?? 'the series'}` }];
  if (e.pushed) return [{ stage: 'push', status: 'skipped', message: waiting(e.pushed.message ?? 'the push failed') }];
  if (s.stage === 'push') return [{ stage: 'push', status: 'skipped', message: `${target} moves to the series next` }];
  return [{ stage: 'push', status: 'skipped', message: `the series is on ${e.apply.staged}; ${target} moves when its gate passes` }];
}

/** Everything the ledger says about one series, as the report shows it (the same shape as from the run files). */
export function entryOutcome(e: LedgerEntry, s: Standing): SeriesOutcome {
  const stages = skipAfter([[harvestStage(e.series)], [ledgerApplyStage(e)], ledgerApproveStage(e, s), ledgerBuildStages(e, s), ledgerTestStages(e, s), ledgerPushStage(e, s), ledgerPublishStages(e)]);
  const failed = stages.find((x) => x.status === 'failed');
  const waitsFor =
    failed?.stage === 'apply'
      ? `It waits for a new version of the series or for ${e.repo}/${e.branch} to move; to try it again now: patchline retry ${e.id}`
      : failed?.stage === 'build' || failed?.stage === 'test'
        ? `It waits for a new version of the series or a change of the platform, spec or test settings; to ${failed.stage} it again now: patchline retry ${e.id}`
        : undefined;
  return {
    series: e.series,
    apply: e.apply?.result,
    builds: Object.values(e.builds).map((b) => b.record),
    repos: Object.values(e.published).map((p) => p.repo),
    stages,
    failed,
    ...(waitsFor ? { waitsFor } : {}),
    ...(s.state === 'held' && s.reason ? { held: s.reason } : {}),
    tests: Object.values(e.tests ?? {}).map((t) => t.result),
  };
}
