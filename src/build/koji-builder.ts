import { mkdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { PlatformConfig } from '../core/config.js';
import { PatchlineError, asPatchlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { FINISHED, buildOfTask, buildsFromSource, cancelTask, getBuild, getBuildTarget, scmSrpm, submitBuild, type KojiBuild, type TaskInfo } from '../koji/api.js';
import { taskFailureMessage } from '../koji/faults.js';
import { downloadTaskFile } from '../koji/files.js';
import { loadKojiProfile } from '../koji/profile.js';
import { KojiSession } from '../koji/session.js';
import { uploadFile } from '../koji/upload.js';
import { watchTasks } from '../koji/watch.js';
import { readSpec } from '../rpm/spec.js';
import { buildSrpm } from '../rpm/srpm.js';
import { fetchBuildRpms, fetchTaskRpms } from './koji-rpms.js';
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
const BUILDING = 0;

/** Who each session is logged in as (getLoggedInUser), for messages. */
const loggedInAs = new WeakMap<KojiSession, string>();

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
    // who we are, for messages (a policy names the user); not worth failing the run over
    const me = (await session.call('getLoggedInUser').catch(() => null)) as { name?: unknown } | null;
    const user = typeof me?.name === 'string' ? me.name : undefined;
    if (user) loggedInAs.set(session, user);
    ctx.log.info(`koji: logged in to ${session.profile.server}${user ? ` as ${user}` : ''} (profile ${name}, ${session.profile.authtype})`);
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
  const spec = await readSpec(settings.submit === 'scm' ? job.source.originalSpecFile : job.source.specFile, distDefines(job.platform), job.source.sandbox);
  return `${spec.name}-${spec.version}-${spec.release}`;
}

/** The SCM URL Koji builds the series' commit from (build.submit scm). */
function scmSource(job: KojiJob, settings: BuildSettings): string {
  return settings.scmUrl!.replace(/\{repo\}/g, job.record.repo).replace(/\{sha\}/g, job.source.commit);
}

/**
 * The Koji build that already holds this job, if any. From an SCM URL the builder may add to
 * Release (the spec says hello-1.0-1, Koji built hello-1.0-1.dfc368f.fc40), and another commit
 * may carry the same spec: a build counts when it was made from this very URL. From an SRPM the
 * NVR is the one made here.
 */
async function existingBuild(job: KojiJob, session: KojiSession, settings: BuildSettings): Promise<KojiBuild | undefined> {
  if (settings.submit === 'scm') return (await buildsFromSource(session, scmSource(job, settings))).find((b) => BUILD_EXISTS.has(b.state));
  const build = await getBuild(session, job.record.nvr!);
  return build && BUILD_EXISTS.has(build.state) ? build : undefined;
}

/** A build Koji already has: its NVR recorded and its RPMs fetched into the job's dir, as for a new build. */
async function takeExisting(job: KojiJob, build: KojiBuild, session: KojiSession, ctx: KojiContext): Promise<void> {
  const where = `${job.platform.name}: Koji already has ${build.nvr} (build ${build.id})`;
  job.record.nvr = build.nvr;
  if (build.state === BUILDING) {
    const task = build.taskId === undefined ? '' : `, task ${build.taskId}${session.taskUrl(build.taskId) ? ` ${session.taskUrl(build.taskId)}` : ''}`;
    throw new PatchlineError('EKOJI', `${job.platform.name}: Koji is still building ${build.nvr} (build ${build.id}${task}): a later run takes its RPMs`, { input: build.nvr });
  }
  try {
    job.record.rpms = (await fetchBuildRpms(session, build, join(job.workDir, 'rpms'))).map((f) => relative(ctx.runDir, f));
  } catch (err) {
    const e = asPatchlineError(err, 'EKOJI');
    throw new PatchlineError(e.code, `${where}, but its RPMs cannot be fetched: ${e.message}`, { input: e.input, details: e.details, cause: err });
  }
  job.record.state = 'skipped';
  job.record.message = `${where}: its RPMs were downloaded, not built again`;
}

async function submit(job: KojiJob, session: KojiSession, ctx: KojiContext): Promise<number> {
  const { settings } = ctx;
  let src: string;
  if (settings.submit === 'scm') {
    src = scmSource(job, settings);
  } else {
    const srpm = await buildSrpm(job.source.specFile, job.source.sourceDir, job.workDir, distDefines(job.platform), job.source.sandbox);
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
  let names: unknown;
  try {
    names = await session.call('listTaskOutput', failed);
  } catch (err) {
    ctx.log.warn(`koji: ${job.platform.name}: cannot list the output of task ${failed}: ${asPatchlineError(err).message}`);
    return logs;
  }
  for (const name of ['build.log', 'root.log']) {
    if (!Array.isArray(names) || !names.includes(name)) continue;
    const file = join(job.workDir, `task-${failed}-${name}`);
    try {
      await downloadTaskFile(session, failed, name, file);
      logs.push(relative(ctx.runDir, file));
    } catch (err) {
      ctx.log.warn(`koji: ${job.platform.name}: cannot fetch ${name} of task ${failed}: ${asPatchlineError(err).message}`);
    }
  }
  return logs;
}

async function failureMessage(job: KojiJob, session: KojiSession, taskId: number): Promise<string> {
  try {
    await session.call('getTaskResult', taskId);
    return `${job.platform.name}: Koji task ${taskId} failed`;
  } catch (err) {
    return taskFailureMessage(job.platform.name, taskId, err, loggedInAs.get(session));
  }
}

/**
 * A closed build task: the NVR Koji built (a non-scratch build's from listBuilds(taskID) and
 * getBuild, a scratch build's from the SRPM Koji made), and its RPMs fetched into the job's dir.
 */
async function takeBuilt(job: KojiJob, root: TaskInfo, children: TaskInfo[], session: KojiSession, ctx: KojiContext): Promise<void> {
  const dir = join(job.workDir, 'rpms');
  const archTasks = children.filter((c) => c.method === 'buildArch').map((c) => c.id);
  let files: string[];
  if (ctx.settings.scratch) {
    const srpmTask = children.find((c) => c.method === 'buildSRPMFromSCM');
    const srpm = srpmTask ? await scmSrpm(session, srpmTask.id) : undefined;
    if (srpm) job.record.nvr = basename(srpm).replace(/\.src\.rpm$/, '');
    files = await fetchTaskRpms(session, archTasks, dir);
  } else {
    const build = await buildOfTask(session, root.id);
    if (!build) throw new PatchlineError('EKOJI', `Koji names no build made by task ${root.id}`, { input: String(root.id) });
    job.record.nvr = build.nvr;
    files = session.profile.topurl ? await fetchBuildRpms(session, build, dir) : await fetchTaskRpms(session, archTasks, dir);
  }
  if (files.length === 0) throw new PatchlineError('EKOJI', `Koji task ${root.id} made no binary RPM`, { input: String(root.id) });
  job.record.rpms = files.map((f) => relative(ctx.runDir, f));
  job.record.state = 'built';
}

async function finish(job: KojiJob, tasks: Map<number, TaskInfo>, session: KojiSession, ctx: KojiContext): Promise<void> {
  const id = job.record.taskId!;
  const root = tasks.get(id);
  const children = [...tasks.values()].filter((t) => t.parent === id);
  if (root?.state === 'CLOSED') {
    try {
      await takeBuilt(job, root, children, session, ctx);
    } catch (err) {
      const e = asPatchlineError(err, 'EKOJI');
      Object.assign(job.record, { state: 'failed', rpms: [], message: `${job.platform.name}: Koji task ${id} built ${job.record.nvr}, but its RPMs cannot be fetched: ${e.message}`, error: e.toJSON() });
    }
  } else if (root?.state === 'FAILED') {
    const failed = children.find((c) => c.state === 'FAILED' && c.method === 'buildArch') ?? children.find((c) => c.state === 'FAILED') ?? root;
    job.record.state = 'failed';
    job.record.message = await failureMessage(job, session, failed.id);
    job.record.logs.push(...(await fetchFailureLogs(job, session, failed.id, ctx)));
  } else {
    job.record.state = 'canceled';
    job.record.message = root?.state === 'CANCELED' ? `${job.platform.name}: Koji task ${id} was canceled in Koji` : `${job.platform.name}: the run was aborted; Koji task ${id} was canceled`;
  }
}

/**
 * Koji builder, first half: log in per profile and check every target, so that a bad profile
 * or target stops the run before anything (Koji or local) is built. Returns the second half:
 * take the builds Koji already has, submit the others (SRPM upload or SCM URL), watch all tasks
 * with one multiCall per poll per hub, fetch the RPMs into the run dir (docs/koji.md) or the
 * failed task's logs, cancel this run's tasks on abort.
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
      Object.assign(job.record, { state: 'canceled', message: `${job.platform.name}: the run was aborted before it was submitted` });
      continue;
    }
    const session = sessionOf(job);
    try {
      job.record.nvr = await nvrOf(job, ctx.settings);
      mkdirSync(job.workDir, { recursive: true });
      const existing = await existingBuild(job, session, ctx.settings);
      if (existing) {
        await takeExisting(job, existing, session, ctx);
        ctx.log.info(`koji: ${job.record.message}`);
        continue;
      }
      const taskId = await submit(job, session, ctx);
      job.record.taskId = taskId;
      job.record.url = session.taskUrl(taskId);
      started.set(taskId, { job, at: Date.now() });
      ctx.log.info(`koji: ${job.record.seriesId} on ${job.platform.name}: ${job.record.nvr} submitted as task ${taskId}${job.record.url ? ` ${job.record.url}` : ''}`);
    } catch (err) {
      const e = asPatchlineError(err, 'EKOJI');
      job.record.state = 'failed';
      job.record.message = e.message.startsWith(`${job.platform.name}: `) ? e.message : `${job.platform.name}: ${e.message}`;
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
        for (const [id, s] of mine) Object.assign(s.job.record, { state: 'failed', message: `${s.job.platform.name}: lost track of Koji task ${id}: ${e.message}`, error: e.toJSON() });
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
