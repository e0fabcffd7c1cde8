import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { PlatformConfig } from '../core/config.js';
import { PatchlineError, asPatchlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { FINISHED, cancelTask, downloadTaskOutput, getBuild, getBuildTarget, submitBuild, type TaskInfo } from '../koji/api.js';
import { loadKojiProfile } from '../koji/profile.js';
import { KojiSession } from '../koji/session.js';
import { uploadFile } from '../koji/upload.js';
import { watchTasks } from '../koji/watch.js';
import { readSpec } from '../rpm/spec.js';
import { buildSrpm } from '../rpm/srpm.js';
import { distDefines, type BuildJob } from './local-builder.js';
import type { BuildSettings } from './settings.js';

export interface KojiJob extends BuildJob {
  platform: PlatformConfig & { target: string };
}

export interface KojiContext {
  settings: BuildSettings;
  runDir: string;
  log: Logger;
  /** Aborted on SIGTERM/SIGINT: stop watching and cancel what this run started. */
  signal: AbortSignal;
  password?: string;
  /** Sessions are handed back so a caller (the benchmark) can count requests. */
  onSession?: (session: KojiSession) => void;
}

/** Build states of getBuild that mean "nothing to do": BUILDING 0, COMPLETE 1. */
const BUILD_EXISTS = new Set([0, 1]);

/**
 * Where an RPM lives under topurl (koji.PathInfo): a real build's packages/<n>/<v>/<r>/<arch>/,
 * a scratch build's only in its task's work dir.
 */
function rpmUrl(topurl: string, scratch: boolean, taskId: number, file: string): string {
  const top = topurl.replace(/\/$/, '');
  const m = /^(.+)-([^-]+)-([^-]+)\.([^.]+)\.rpm$/.exec(file);
  if (scratch || !m) return `${top}/work/tasks/${taskId % 10000}/${taskId}/${encodeURIComponent(file)}`;
  return `${top}/packages/${m[1]}/${m[2]}/${m[3]}/${m[4]}/${encodeURIComponent(file)}`;
}

/** Log in; a refusal or an unreachable hub names the profile, the hub and the login it tried (never the password). */
async function loginTo(session: KojiSession): Promise<void> {
  try {
    await session.login();
  } catch (err) {
    const e = asPatchlineError(err, 'EKOJI');
    if (e.code !== 'EKOJI') throw e;
    const { name, server, authtype, user, cert } = session.profile;
    const as = authtype === 'ssl' ? `with the certificate ${cert}` : `as ${user}`;
    throw new PatchlineError('EKOJI', `Koji profile [${name}]: cannot log in to ${server} ${as}: ${e.message}`, { input: name, details: e.details, cause: err });
  }
}

async function openSessions(jobs: KojiJob[], ctx: KojiContext): Promise<Map<string, KojiSession>> {
  const sessions = new Map<string, KojiSession>();
  for (const job of jobs) {
    const name = job.platform.profile ?? ctx.settings.kojiProfile;
    if (sessions.has(name)) continue;
    const session = new KojiSession({
      profile: loadKojiProfile(name, ctx.settings.kojiConfigFiles),
      password: ctx.password,
      retries: ctx.settings.retries,
      timeoutMs: ctx.settings.timeoutMs,
      log: (line) => ctx.log.warn(line),
    });
    ctx.onSession?.(session);
    await loginTo(session);
    ctx.log.info(`koji: logged in to ${session.profile.server} (profile ${name}, ${session.profile.authtype})`);
    sessions.set(name, session);
  }
  return sessions;
}

/** Every platform's target must exist before anything is submitted. */
async function checkTargets(jobs: KojiJob[], sessionOf: (job: KojiJob) => KojiSession): Promise<void> {
  const seen = new Set<string>();
  for (const job of jobs) {
    const session = sessionOf(job);
    const key = `${session.profile.name}\0${job.platform.target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!(await getBuildTarget(session, job.platform.target))) {
      throw new PatchlineError('EKOJI', `Koji build target "${job.platform.target}" of platform ${job.platform.name} does not exist on ${session.profile.server}; nothing was submitted`, { input: job.platform.target });
    }
  }
}

async function nvrOf(job: KojiJob, settings: BuildSettings): Promise<string> {
  const spec = await readSpec(settings.submit === 'scm' ? job.source.originalSpecFile : job.source.specFile, distDefines(job.platform));
  return `${spec.name}-${spec.version}-${spec.release}`;
}

async function submit(job: KojiJob, session: KojiSession, ctx: KojiContext): Promise<number> {
  const { settings } = ctx;
  let src: string;
  if (settings.submit === 'scm') {
    src = settings.scmUrl!.replace(/\{repo\}/g, job.record.repo).replace(/\{sha\}/g, job.source.commit);
  } else {
    const srpm = await buildSrpm(job.source.specFile, job.source.sourceDir, job.workDir, distDefines(job.platform));
    job.record.srpm = relative(ctx.runDir, srpm);
    src = await uploadFile(session, srpm);
  }
  return submitBuild(session, src, job.platform.target, { scratch: settings.scratch, priority: settings.priority, channel: settings.channel });
}

function describeTask(task: TaskInfo): string {
  return `task ${task.id} (${task.method}${task.label ? ` ${task.label}` : ''})`;
}

/** The failed task's build.log and root.log, kept in the job's dir. */
async function fetchFailureLogs(job: KojiJob, session: KojiSession, failed: number, ctx: KojiContext): Promise<string[]> {
  const logs: string[] = [];
  for (const name of ['build.log', 'root.log']) {
    const data = await downloadTaskOutput(session, failed, name).catch((err: unknown) => {
      ctx.log.warn(`koji: cannot fetch ${name} of task ${failed}: ${asPatchlineError(err).message}`);
      return undefined;
    });
    if (data === undefined) continue;
    const file = join(job.workDir, `task-${failed}-${name}`);
    writeFileSync(file, data);
    logs.push(relative(ctx.runDir, file));
  }
  return logs;
}

async function failureMessage(session: KojiSession, taskId: number): Promise<string> {
  try {
    await session.call('getTaskResult', taskId);
    return `Koji task ${taskId} failed`;
  } catch (err) {
    return asPatchlineError(err).message;
  }
}

async function finish(job: KojiJob, tasks: Map<number, TaskInfo>, session: KojiSession, ctx: KojiContext): Promise<void> {
  const root = tasks.get(job.record.taskId!);
  const children = [...tasks.values()].filter((t) => t.parent === job.record.taskId);
  if (root?.state === 'CLOSED') {
    job.record.state = 'built';
    const topurl = session.profile.topurl;
    for (const child of children.filter((c) => c.method === 'buildArch')) {
      const files = await session.call('listTaskOutput', child.id);
      const rpms = (Array.isArray(files) ? files : []).filter((f): f is string => typeof f === 'string' && f.endsWith('.rpm'));
      job.record.rpms.push(...rpms.map((f) => (topurl ? rpmUrl(topurl, ctx.settings.scratch, child.id, f) : f)));
    }
    if (!topurl) job.record.message = `profile ${session.profile.name} has no topurl: RPMs are named, not linked`;
  } else if (root?.state === 'FAILED') {
    const failed = children.find((c) => c.state === 'FAILED' && c.method === 'buildArch') ?? children.find((c) => c.state === 'FAILED') ?? root;
    job.record.state = 'failed';
    job.record.message = await failureMessage(session, failed.id);
    job.record.logs.push(...(await fetchFailureLogs(job, session, failed.id, ctx)));
  } else {
    job.record.state = 'canceled';
    job.record.message = root?.state === 'CANCELED' ? 'canceled in Koji' : 'the run was aborted';
  }
}

/**
 * Koji builder, first half: log in per profile and check every target, so that a bad profile
 * or target stops the run before anything (Koji or local) is built. Returns the second half:
 * skip NVRs Koji already has, submit (SRPM upload or SCM URL), watch all tasks with one
 * multiCall per poll per hub, fetch the failed task's logs, cancel this run's tasks on abort.
 */
export async function startKojiBuilds(jobs: KojiJob[], ctx: KojiContext): Promise<() => Promise<void>> {
  if (jobs.length === 0) return async () => undefined;
  // build.submit scm without build.scmUrl is refused when the config is loaded (config-checks.ts checkBuild)
  const sessions = await openSessions(jobs, ctx);
  const sessionOf = (job: KojiJob) => sessions.get(job.platform.profile ?? ctx.settings.kojiProfile)!;
  await checkTargets(jobs, sessionOf);
  return () => runKojiBuilds(jobs, sessions, sessionOf, ctx);
}

async function runKojiBuilds(jobs: KojiJob[], sessions: Map<string, KojiSession>, sessionOf: (job: KojiJob) => KojiSession, ctx: KojiContext): Promise<void> {
  const started = new Map<number, { job: KojiJob; at: number }>();
  for (const job of jobs) {
    if (ctx.signal.aborted) {
      Object.assign(job.record, { state: 'canceled', message: 'the run was aborted before it was submitted' });
      continue;
    }
    const session = sessionOf(job);
    try {
      job.record.nvr = await nvrOf(job, ctx.settings);
      const existing = await getBuild(session, job.record.nvr);
      if (existing && BUILD_EXISTS.has(existing.state)) {
        job.record.state = 'skipped';
        job.record.message = `Koji already has ${job.record.nvr} (build ${existing.id})`;
        ctx.log.info(`koji: ${job.platform.name}: ${job.record.message}`);
        continue;
      }
      mkdirSync(job.workDir, { recursive: true });
      const taskId = await submit(job, session, ctx);
      job.record.taskId = taskId;
      job.record.url = session.taskUrl(taskId);
      started.set(taskId, { job, at: Date.now() });
      ctx.log.info(`koji: ${job.record.seriesId} on ${job.platform.name}: ${job.record.nvr} submitted as task ${taskId}${job.record.url ? ` ${job.record.url}` : ''}`);
    } catch (err) {
      const e = asPatchlineError(err, 'EKOJI');
      job.record.state = 'failed';
      job.record.message = e.message;
      job.record.error = e.toJSON();
    }
  }
  await Promise.all(
    [...sessions.values()].map(async (session) => {
      const mine = [...started.entries()].filter(([, s]) => sessionOf(s.job) === session);
      if (mine.length === 0) return;
      let tasks: Map<number, TaskInfo>;
      try {
        tasks = await watchTasks(
          session,
          mine.map(([id]) => id),
          {
            pollIntervalMs: ctx.settings.pollIntervalMs,
            signal: ctx.signal,
            onChange: (task) => {
              ctx.log.info(`koji: ${describeTask(task)}: ${task.state}${session.taskUrl(task.id) ? ` ${session.taskUrl(task.id)}` : ''}`);
              const s = started.get(task.id);
              if (s && FINISHED.has(task.state)) s.job.record.durationSeconds = (Date.now() - s.at) / 1000;
            },
          },
        );
      } catch (err) {
        // The hub stayed unreachable past the retries: the tasks may still run; say so in build.json.
        const e = asPatchlineError(err, 'EKOJI');
        for (const [id, s] of mine) Object.assign(s.job.record, { state: 'failed', message: `lost track of Koji task ${id}: ${e.message}`, error: e.toJSON() });
        return;
      }
      if (ctx.signal.aborted) {
        for (const [id] of mine.filter(([id]) => !FINISHED.has(tasks.get(id)?.state ?? 'FREE'))) {
          await cancelTask(session, id);
          ctx.log.warn(`koji: canceled task ${id}`);
        }
      }
      for (const [, s] of mine) await finish(s.job, tasks, session, ctx);
    }),
  );
  for (const session of sessions.values()) await session.logout().catch(() => undefined);
}
