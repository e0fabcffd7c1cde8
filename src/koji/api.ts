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

/** The build of an NVR, or undefined when the hub does not know it. */
export async function getBuild(session: KojiSession, nvr: string): Promise<{ id: number; state: number; taskId?: number } | undefined> {
  const value = await session.call('getBuild', nvr);
  if (value === null) return undefined;
  const b = asStruct(value, 'a build');
  return { id: toInt(b.id ?? b.build_id, 'build id'), state: toInt(b.state, 'build state'), ...(b.task_id == null ? {} : { taskId: toInt(b.task_id, 'task id') }) };
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

const DOWNLOAD_CHUNK = 1 << 20;

/** A task's output file (build.log, root.log), or undefined when the task has none. */
export async function downloadTaskOutput(session: KojiSession, taskId: number, fileName: string): Promise<Buffer | undefined> {
  const files = await session.call('listTaskOutput', taskId);
  if (!Array.isArray(files) || !files.includes(fileName)) return undefined;
  const chunks: Buffer[] = [];
  for (let offset = 0; ; ) {
    const data = await session.call('downloadTaskOutput', taskId, fileName, kwargs({ offset, size: DOWNLOAD_CHUNK }));
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'base64');
    chunks.push(chunk);
    offset += chunk.length;
    if (chunk.length < DOWNLOAD_CHUNK) break;
  }
  return Buffer.concat(chunks);
}
