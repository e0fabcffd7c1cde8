import { join, relative } from 'node:path';
import { ExitCode, PatchlineError, asPatchlineError } from '../core/errors.js';
import { createProgress } from '../core/progress.js';
import { readResult, writeResult } from '../core/results.js';
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

/** Applied series of this run (and the --repo/--branch choice), each with the commit to build: its last. */
export function seriesToBuild(apply: ApplyResult, opts: { repo?: string; branch?: string }): Array<SeriesToBuild & { branch: string }> {
  const out: Array<SeriesToBuild & { branch: string }> = [];
  for (const s of apply.series) {
    if (s.status === 'failed') continue;
    if (opts.repo !== undefined && s.repo !== opts.repo) continue;
    if (opts.branch !== undefined && s.branch !== opts.branch) continue;
    const last = s.commits.at(-1)?.sha ?? [...s.alreadyApplied].sort((a, b) => a.number - b.number).at(-1)?.sha;
    if (last === undefined) continue;
    const messageIds = [...s.alreadyApplied, ...s.commits].sort((a, b) => a.number - b.number).map((c) => c.messageId);
    out.push({ id: s.id, repo: s.repo, branch: s.branch, commit: last, messageIds });
  }
  return out;
}

function exitCodeOf(builds: BuildRecord[], aborted: boolean): ExitCode {
  if (aborted) return ExitCode.failed;
  const bad = builds.filter((b) => b.state === 'failed' || b.state === 'canceled').length;
  if (bad === 0) return ExitCode.ok;
  return bad === builds.length ? ExitCode.failed : ExitCode.partial;
}

async function prepareAll(ctx: StepContext, series: SeriesToBuild[], settings: BuildSettings): Promise<Map<string, PreparedSource>> {
  const prepared = new Map<string, PreparedSource>();
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
    prepared.set(s.id, await prepareSource(git, s, cfg, settings, ctx.loaded.baseDir, join(ctx.runDir, 'build', safeName(s.id), 'source')));
  }
  return prepared;
}

async function runLocalBuilds(jobs: BuildJob[], ctx: StepContext, signal: AbortSignal): Promise<void> {
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
      ctx.log.info(`build: ${job.record.seriesId} on ${job.platform.name}: ${job.record.state}${job.record.message ? ` (${job.record.message})` : ''}`);
      progress.tick(`${job.platform.name} ${job.record.state}`);
    }
  } finally {
    progress.stop();
  }
}

export const runBuildStep: StepRun = async (ctx) => {
  const startedAt = new Date().toISOString();
  const settings = buildSettings(ctx.loaded, { scratch: ctx.options.scratch === true });
  const series = seriesToBuild(readResult(ctx.runDir, 'apply'), ctx.options);
  // Every spec and tarball first: a bad spec stops the run before anything is submitted.
  const prepared = await prepareAll(ctx, series, settings);
  const builds: BuildRecord[] = [];
  const local: BuildJob[] = [];
  const koji: KojiJob[] = [];
  for (const s of series.filter((x) => prepared.has(x.id))) {
    for (const platform of settings.platforms) {
      const record: BuildRecord = { seriesId: s.id, repo: s.repo, branch: s.branch, platform: platform.name, builder: platform.builder, state: 'failed', commit: s.commit, rpms: [], logs: [], durationSeconds: 0 };
      builds.push(record);
      const job: BuildJob = { record, platform, source: prepared.get(s.id)!, workDir: join(ctx.runDir, 'build', safeName(s.id), platform.name) };
      if (platform.builder === 'local') local.push(job);
      else if (ctx.options.dryRun) Object.assign(record, { state: 'skipped', message: 'dry run: not submitted to Koji' });
      // the config schema requires a target for every koji platform
      else koji.push({ ...job, platform: { ...platform, target: platform.target! } });
    }
  }
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
    await Promise.all([runLocalBuilds(local, ctx, abort.signal), runKoji()]);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  writeResult(ctx.runDir, 'build', { runId: ctx.runId, startedAt, finishedAt: new Date().toISOString(), builds });
  const counts = ['built', 'skipped', 'failed', 'canceled'].map((s) => `${builds.filter((b) => b.state === s).length} ${s}`).join(', ');
  ctx.log.info(`build: ${builds.length} builds: ${counts}`);
  return exitCodeOf(builds, abort.signal.aborted);
};
