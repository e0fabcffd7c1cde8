import { FINISHED, toTaskInfo, type TaskInfo } from './api.js';
import type { KojiSession, MultiCallEntry } from './session.js';

export interface WatchOptions {
  pollIntervalMs: number;
  /** Called for every task seen for the first time or whose state changed. */
  onChange(task: TaskInfo, previous: TaskInfo | undefined): void;
  /** Stops the watch (SIGTERM/SIGINT); the tasks seen so far are returned. */
  signal?: AbortSignal;
  /** Stop after this many polls even if tasks are still open (the benchmark). */
  maxPolls?: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Watch the given tasks and their children until every root task is finished, with ONE
 * multiCall per poll: getTaskInfo and getTaskChildren for every task not yet finished
 * (the koji CLI sends these as separate requests, two per running task).
 */
export async function watchTasks(session: KojiSession, rootIds: number[], opts: WatchOptions): Promise<Map<number, TaskInfo>> {
  const tasks = new Map<number, TaskInfo>();
  const note = (task: TaskInfo) => {
    const previous = tasks.get(task.id);
    if (previous?.state !== task.state) opts.onChange(task, previous);
    tasks.set(task.id, task);
  };
  const rootsOpen = () => rootIds.some((id) => !FINISHED.has(tasks.get(id)?.state ?? 'FREE'));
  for (let poll = 0; rootsOpen() && !opts.signal?.aborted && (opts.maxPolls === undefined || poll < opts.maxPolls); poll++) {
    if (poll > 0) await sleep(opts.pollIntervalMs, opts.signal);
    if (opts.signal?.aborted) break;
    const open = [...new Set([...rootIds, ...tasks.keys()])].filter((id) => !FINISHED.has(tasks.get(id)?.state ?? 'FREE'));
    const calls: MultiCallEntry[] = open.flatMap((id) => [
      { methodName: 'getTaskInfo', params: [id] },
      { methodName: 'getTaskChildren', params: [id] },
    ]);
    const results = await session.multiCall(calls);
    results.forEach((result, i) => {
      if (!result.ok) throw result.error;
      if (i % 2 === 0) note(toTaskInfo(result.value));
      else for (const child of result.value as unknown[]) note(toTaskInfo(child));
    });
  }
  return tasks;
}
