import type { SeriesApplyResult } from '../apply/types.js';
import type { BuildRecord } from '../build/types.js';
import type { SeriesResult } from '../harvest/types.js';
import type { PublishedRepo } from '../publish/types.js';
import type { RunFiles } from './run-files.js';

export type Stage = 'harvest' | 'apply' | 'build' | 'publish';
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

function publishStages(files: RunFiles, builds: BuildRecord[], repos: PublishedRepo[]): StageResult[] {
  const built = builds.filter((b) => b.state === 'built' || b.state === 'skipped');
  if (built.length === 0) return [];
  if (!files.publish) return [{ stage: 'publish', status: 'failed', message: notRun('publish') }];
  return built.map((b) => {
    const repo = repos.find((r) => r.platform === b.platform);
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
  const platforms = new Set(builds.map((b) => b.platform));
  const repos = files.publish?.repos.filter((r) => platforms.has(r.platform)) ?? [];
  const stages = skipAfter([[harvestStage(series)], [applyStage(files, apply)], buildStages(files, builds), publishStages(files, builds, repos)]);
  return { series, apply, builds, repos, stages, failed: stages.find((s) => s.status === 'failed') };
}

/** Outcomes of the series a run reports on: ready and incomplete ones (superseded series are old news). */
export function runOutcomes(files: RunFiles): SeriesOutcome[] {
  return (files.harvest?.series ?? []).filter((s) => s.status !== 'superseded').map((s) => seriesOutcome(files, s));
}
