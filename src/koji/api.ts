import { PatchlineError } from '../core/errors.js';
import type { KojiSession } from './session.js';
import { asStruct, kwargs, toInt } from './values.js';

/** Typed wrappers of the hub methods patchline uses (signatures: hub-api-signatures.json). */

export const TASK_STATES = ['FREE', 'OPEN', 'CLOSED', 'CANCELED', 'ASSIGNED', 'FAILED'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINISHED: ReadonlySet<TaskState> = new Set(['CLOSED', 'CANCELED', 'FAILED']);

export interface TaskInfo {
  id: number;
  state: TaskState;
  method: string;
  parent?: number;
  label?: string;
  arch?: string;
}

export function toTaskInfo(value: unknown): TaskInfo {
  const t = asStruct(value, 'a task');
  const state = TASK_STATES[toInt(t.state, 'task state')];
  if (state === undefined) throw new PatchlineError('EKOJI', `Koji returned an unknown task state ${String(t.state)}`, { input: String(t.id) });
  return {
    id: toInt(t.id, 'task id'),
    state,
    method: String(t.method),
    ...(t.parent === null || t.parent === undefined ? {} : { parent: toInt(t.parent, 'parent task id') }),
    ...(typeof t.label === 'string' ? { label: t.label } : {}),
    ...(typeof t.arch === 'string' ? { arch: t.arch } : {}),
  };
}

export async function getBuildTarget(session: KojiSession, target: string): Promise<{ name: string; buildTag: string; destTag: string } | undefined> {
  const value = await session.call('getBuildTarget', target);
  if (value === null) return undefined;
  const t = asStruct(value, 'a build target');
  return { name: String(t.name), buildTag: String(t.build_tag_name), destTag: String(t.dest_tag_name) };
}

/** Build states (koji.BUILD_STATES). */
export const BUILD_STATES = ['BUILDING', 'COMPLETE', 'DELETED', 'FAILED', 'CANCELED'] as const;

/** A build as getBuild/listBuilds give it (the fields patchline reads). */
export interface KojiBuild {
  id: number;
  nvr: string;
  name: string;
  version: string;
  release: string;
  /** 0 BUILDING, 1 COMPLETE, 2 DELETED, 3 FAILED, 4 CANCELED */
  state: number;
  taskId?: number;
  /** Where its files live (DEFAULT: topdir itself, else vol/<name>/). */
  volume: string;
  /** The SCM URL or SRPM path it was built from. */
  source?: string;
}

function toBuild(value: unknown): KojiBuild {
  const b = asStruct(value, 'a build');
  return {
    id: toInt(b.build_id ?? b.id, 'build id'),
    nvr: String(b.nvr),
    name: String(b.name ?? b.package_name),
    version: String(b.version),
    release: String(b.release),
    state: toInt(b.state, 'build state'),
    ...(b.task_id == null ? {} : { taskId: toInt(b.task_id, 'task id') }),
    volume: typeof b.volume_name === 'string' ? b.volume_name : 'DEFAULT',
    ...(typeof b.source === 'string' ? { source: b.source } : {}),
  };
}

/** The build of an NVR or build id, or undefined when the hub does not know it. */
export async function getBuild(session: KojiSession, ref: string | number): Promise<KojiBuild | undefined> {
  const value = await session.call('getBuild', ref);
  return value === null ? undefined : toBuild(value);
}

/**
 * The build a build task made (a build task's own result is nil): listBuilds(taskID=...), then
 * getBuild of its id. Undefined for a scratch build, which makes no build.
 */
export async function buildOfTask(session: KojiSession, taskId: number): Promise<KojiBuild | undefined> {
  const list = await session.call('listBuilds', kwargs({ taskID: taskId }));
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return getBuild(session, toBuild(list[0]).id);
}

/** Builds made from exactly this source (an SCM URL with its commit), newest first. */
export async function buildsFromSource(session: KojiSession, source: string): Promise<KojiBuild[]> {
  const list = await session.call('listBuilds', kwargs({ source }));
  // the hub matches with SQL ilike, where _ stands for any character: keep the exact ones
  const same = (b: KojiBuild) => b.source?.toLowerCase() === source.toLowerCase();
  return (Array.isArray(list) ? list.map(toBuild) : []).filter(same).sort((a, b) => b.id - a.id);
}

/** One RPM of a build (listBuildRPMs). */
export interface BuildRpm {
  name: string;
  version: string;
  release: string;
  arch: string;
  size: number;
}

export async function listBuildRpms(session: KojiSession, buildId: number): Promise<BuildRpm[]> {
  const list = await session.call('listBuildRPMs', buildId);
  if (!Array.isArray(list)) throw new PatchlineError('EKOJI', `Koji listBuildRPMs returned ${JSON.stringify(list)} for build ${buildId}`, { input: String(buildId) });
  return list.map((value) => {
    const r = asStruct(value, 'an RPM');
    return { name: String(r.name), version: String(r.version), release: String(r.release), arch: String(r.arch), size: toInt(r.size, 'RPM size') };
  });
}

/** What a buildArch task made: RPM paths relative to Koji's work dir (e.g. tasks/10/10/x.noarch.rpm). */
export async function buildArchRpms(session: KojiSession, taskId: number): Promise<string[]> {
  const result = asStruct(await session.call('getTaskResult', taskId), 'a buildArch result');
  const rpms = [...(Array.isArray(result.rpms) ? result.rpms : []), ...(Array.isArray(result.srpms) ? result.srpms : [])];
  return rpms.map(String);
}

/** The SRPM a buildSRPMFromSCM task made, relative to Koji's work dir. */
export async function scmSrpm(session: KojiSession, taskId: number): Promise<string | undefined> {
  const result = asStruct(await session.call('getTaskResult', taskId), 'a buildSRPMFromSCM result');
  return typeof result.srpm === 'string' ? result.srpm : undefined;
}

/** A task's output files and their sizes (listTaskOutput stat=True; the hub sends st_size as a string). */
export async function taskOutputSizes(session: KojiSession, taskId: number): Promise<Map<string, number>> {
  const value = asStruct(await session.call('listTaskOutput', taskId, kwargs({ stat: true })), 'a task output listing');
  return new Map(Object.entries(value).map(([name, st]) => [name, toInt(asStruct(st, 'a file stat').st_size, 'st_size')]));
}

export interface BuildOptions {
  scratch?: boolean;
  priority?: number;
  channel?: string;
}

/** Submit `build(src, target, opts, priority, channel)`; returns the task id. */
export async function submitBuild(session: KojiSession, src: string, target: string, opts: BuildOptions): Promise<number> {
  const params: unknown[] = [src, target, opts.scratch ? { scratch: true } : {}];
  const named: Record<string, unknown> = {};
  if (opts.priority !== undefined) named.priority = opts.priority;
  if (opts.channel !== undefined) named.channel = opts.channel;
  if (Object.keys(named).length > 0) params.push(kwargs(named));
  return toInt(await session.call('build', ...params), 'task id');
}

export async function cancelTask(session: KojiSession, taskId: number): Promise<void> {
  await session.call('cancelTask', taskId);
}
