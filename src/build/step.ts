import { join, relative } from 'node:path';
import { ExitCode, PatchlineError, asPatchlineError } from '../core/errors.js';
import { createProgress } from '../core/progress.js';
import { readResult, readResultIfExists, writeResult } from '../core/results.js';
import { readSecret } from '../core/secrets.js';
import type { StepContext, StepRun } from '../core/step-context.js';
import type { ApplyResult } from '../apply/types.js';
import { cloneDir } from '../apply/clone.js';
import { Git } from '../git/git.js';
import { startKojiBuilds, type KojiJob } from './koji-builder.js';
import { buildLocally, type BuildJob } from './local-builder.js';
import { buildSettings, safeName, type BuildSettings } from './settings.js';
import { prepareSource, type PreparedSource, type SeriesToBuild } from './source.js';
import type { BuildRecord } from './types.js';
import { Ledger } from '../ledger/store.js';
import { buildWork, builtCommit, recordBuild, restageAboveFailures } from '../ledger/work.js';

/** A series to build and the platforms to build it for. */
type BuildItem = SeriesToBuild & { branch: string; platforms?: string[] };

/** Applied series of a run's apply.json (a dry run, which records nothing in the ledger), each with the commit to build: its last. */
export function seriesToBuild(apply: Pick<ApplyResult, 'series'>, opts: { repo?: string; branch?: string }): BuildItem[] {
  const out: BuildItem[] = [];
  for (const s of apply.series) {
    if (opts.repo !== undefined && s.repo !== opts.repo) continue;
    if (opts.branch !== undefined && s.branch !== opts.branch) continue;
    const c = builtCommit(s);
    if (c) out.push({ id: s.id, repo: s.repo, branch: s.branch, ...c });
  }
  return out;
}

function exitCodeOf(builds: BuildRecord[], aborted: boolean): ExitCode {
  if (aborted) return ExitCode.failed;
  const bad = builds.filter((b) => b.state === 'failed' || b.state === 'canceled').length;
  if (bad === 0) return ExitCode.ok;
  return bad === builds.length ? ExitCode.failed : ExitCode.partial;
}

/**
 * Every spec and tarball first: a bad spec stops that series before anything is submitted. A
 * series whose source cannot be prepared (a spec the patch broke) fails on every platform, and waits.
 */
async function prepareAll(ctx: StepContext, series: SeriesToBuild[], settings: BuildSettings): Promise<{ prepared: Map<string, PreparedSource>; unprepared: Map<string, PatchlineError> }> {
  const prepared = new Map<string, PreparedSource>();
  const unprepared = new Map<string, PatchlineError>();
  for (const s of series) {
    const repo = ctx.loaded.config.repos[s.repo];
    if (!repo) throw new PatchlineError('ERESULT', `apply.json names repo ${s.repo}, which is not in the config`, { input: s.id });
    const cfg = repo.build;
    if (!cfg) {
      ctx.log.info(`build: ${s.id}: repos.${s.repo}.build names no spec; not built`);
      continue;
    }
    if (!/^[0-9a-f]{40,64}$/.test(s.commit)) throw new PatchlineError('ERESULT', `apply.json names ${JSON.stringify(s.commit)} as a commit`, { input: s.id });
    const git = new Git(cloneDir(ctx.loaded.stateDir, s.repo));
    try {
      prepared.set(s.id, await prepareSource(git, s, cfg, settings, ctx.loaded.baseDir, join(ctx.runDir, 'build', safeName(s.id), 'source')));
    } catch (err) {
      const e = asPatchlineError(err, 'ESPEC');
      if (e.code === 'ECONFIG' || e.code === 'EINTERNAL') throw e;
      ctx.log.warn(`build: ${s.id}: ${e.message}`);
      unprepared.set(s.id, e);
    }
  }
  return { prepared, unprepared };
}

async function runLocalBuilds(jobs: BuildJob[], ctx: StepContext, signal: AbortSignal, done: (record: BuildRecord) => void): Promise<void> {
  const progress = createProgress('build', jobs.length);
  try {
    for (const job of jobs) {
      if (signal.aborted) {
        job.record.state = 'canceled';
        job.record.message = 'the run was aborted';
        continue;
      }
      const t0 = Date.now();
      try {
        const out = await buildLocally(job.source, job.platform, job.workDir, (line) => ctx.log.warn(line), signal);
        Object.assign(job.record, {
          state: out.ok ? 'built' : 'failed',
          srpm: relative(ctx.runDir, out.srpm),
          rpms: out.rpms.map((f) => relative(ctx.runDir, f)),
          logs: out.logs.map((f) => relative(ctx.runDir, f)),
          ...(out.message ? { message: out.message } : {}),
        });
      } catch (err) {
        const e = asPatchlineError(err, 'EBUILD');
        if (signal.aborted) Object.assign(job.record, { state: 'canceled', message: 'the run was aborted' });
        else Object.assign(job.record, { state: 'failed', message: e.message, error: e.toJSON() });
      }
      job.record.durationSeconds = (Date.now() - t0) / 1000;
      done(job.record);
      ctx.log.info(`build: ${job.record.seriesId} on ${job.platform.name}: ${job.record.state}${job.record.message ? ` (${job.record.message})` : ''}`);
      progress.tick(`${job.platform.name} ${job.record.state}`);
    }
  } finally {
    progress.stop();
  }
}

export const runBuildStep: StepRun = async (ctx) => {
  const startedAt = new Date().toISOString();
  const { config, stateDir } = ctx.loaded;
  const dryRun = ctx.options.dryRun === true;
  const settings = buildSettings(ctx.loaded, { scratch: ctx.options.scratch === true });
  // the work comes from the ledger (every applied series with a platform not built yet); a dry run recorded nothing there
  const ledger = Ledger.open(stateDir);
  const own = readResultIfExists(ctx.runDir, 'apply');
  const series: BuildItem[] = dryRun ? seriesToBuild(own ?? readResult(ctx.runDir, 'apply'), ctx.options) : [...buildWork(ledger, config, ctx.options), ...seriesToBuild(own ?? { series: [] }, ctx.options).filter((s) => !ledger.get(s.id))];
  const { prepared, unprepared } = await prepareAll(ctx, series, settings);
  const builds: BuildRecord[] = [];
  const local: BuildJob[] = [];
  const koji: KojiJob[] = [];
  const at = () => new Date().toISOString();
  const record = (r: BuildRecord) => {
    if (!dryRun) recordBuild(ledger, config, r, ctx.runDir, ctx.runId, at());
  };
  for (const s of series.filter((x) => prepared.has(x.id) || unprepared.has(x.id))) {
    for (const platform of settings.platforms.filter((p) => !s.platforms || s.platforms.includes(p.name))) {
      const record: BuildRecord = { seriesId: s.id, repo: s.repo, branch: s.branch, platform: platform.name, builder: platform.builder, state: 'failed', commit: s.commit, rpms: [], logs: [], durationSeconds: 0 };
      builds.push(record);
      const failure = unprepared.get(s.id);
      if (failure) {
        Object.assign(record, { message: failure.message, error: failure.toJSON() });
        continue;
      }
      const job: BuildJob = { record, platform, source: prepared.get(s.id)!, workDir: join(ctx.runDir, 'build', safeName(s.id), platform.name) };
      if (platform.builder === 'local') local.push(job);
      else if (dryRun) Object.assign(record, { state: 'skipped', message: 'dry run: not submitted to Koji' });
      // the config schema requires a target for every koji platform
      else koji.push({ ...job, platform: { ...platform, target: platform.target! } });
    }
  }
  for (const r of builds.filter((b) => unprepared.has(b.seriesId))) record(r);
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    ctx.log.warn(`${signal}: stopping, canceling the builds this run started`);
    abort.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const password = settings.kojiPassword && koji.length > 0 ? readSecret(settings.kojiPassword, 'build.kojiPassword', ctx.loaded.baseDir) : undefined;
    const runKoji = await startKojiBuilds(koji, { settings, runDir: ctx.runDir, log: ctx.log, signal: abort.signal, password });
    await Promise.all([runLocalBuilds(local, ctx, abort.signal, record), runKoji().then(() => koji.forEach((j) => record(j.record)))]);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  writeResult(ctx.runDir, 'build', { runId: ctx.runId, startedAt, finishedAt: new Date().toISOString(), builds }, { round: ctx.options.round as number | undefined });
  if (!dryRun) {
    const restaged = restageAboveFailures(ledger, config, ctx.runId, new Date().toISOString());
    for (const id of restaged) ctx.log.info(`build: ${id}: a series applied under it failed its gate: it is applied again on the branch's tip, its builds here do not count`);
  }
  const counts = ['built', 'skipped', 'failed', 'canceled'].map((s) => `${builds.filter((b) => b.state === s).length} ${s}`).join(', ');
  ctx.log.info(`build: ${builds.length} builds: ${counts}`);
  return exitCodeOf(builds, abort.signal.aborted);
};
