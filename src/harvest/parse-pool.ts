/**
 * The main thread's side of the parse workers: hands each raw message to a worker and resolves
 * with its facts. When no worker can be used (none configured, running from the TypeScript
 * sources without a build, or a worker that died) the message is examined on the main thread:
 * the result is the same, only slower, and nothing is staged. After the fetch, the threads
 * share the series directories to put in place ({@link ExaminePool.placing}).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from '../core/config-types.js';
import { PACKAGE_ROOT } from '../core/paths.js';
import { placeSeriesDir, type PlaceJob } from './archive.js';
import { examineMessage, subjectPatternOf, type MessageFacts } from './examine.js';

export interface WorkerSetup {
  maxBytes: number;
  config: Config;
  /** Where to stage archive files; undefined: do not stage. */
  stageRoot?: string;
}

/** At most this many requests (or replies) per message between the threads: with no bound, each side waited for the other's whole batch. */
export const BATCH = 32;

export interface ExamineRequest {
  seq: number;
  /** The message bytes (transferred, not copied again). */
  raw: ArrayBuffer;
  /** The source's subjectPattern, as configured. */
  pattern?: string;
}

export interface ExamineReply {
  seq: number;
  facts: MessageFacts;
  /** Staging failed (disk full, permissions): the harvest writes the files itself. */
  stageError?: string;
}

/**
 * Series directories to place, shared: each job is claimed by one thread through `claims` (see
 * {@link ExaminePool.placing}). Jobs come in chunks as the harvest makes them; `first` is the
 * index of the chunk's first job, `last` marks the end (the worker then answers).
 */
export interface PlaceRequest {
  place: { stateDir: string; claims: SharedArrayBuffer; first: number; jobs: PlaceJob[]; last: boolean };
}

/** The worker is done with its share (a job that failed there stays claimed: the main thread does it again and reports the error). */
export interface PlaceReply {
  placed: true;
}

/** Jobs handed to the worker per message while the harvest makes them. */
const PLACE_CHUNK = 64;

/** The states of a job in `claims`. */
export const CLAIM = { free: 0, main: 1, worker: 2, workerDone: 3 } as const;

/** Claim job `i` for this thread: true when no one had it. */
export function claim(claims: Int32Array, i: number, by: number): boolean {
  return Atomics.compareExchange(claims, i, CLAIM.free, by) === CLAIM.free;
}

/**
 * After the worker's share: the jobs it claimed and did not finish are done here. A job is done
 * once its staged directory is renamed away; one whose directory is still there is safe to do
 * again ({@link placeSeriesDir}). Returns how many the worker finished.
 */
export function finishAbandoned(stateDir: string, jobs: PlaceJob[], claims: Int32Array): number {
  let finished = 0;
  for (let i = 0; i < jobs.length; i++) {
    const state = Atomics.load(claims, i);
    if (state === CLAIM.workerDone) finished += 1;
    else if (state === CLAIM.worker && existsSync(jobs[i]!.build)) placeSeriesDir(stateDir, jobs[i]!);
  }
  return finished;
}

interface Task {
  raw: Buffer;
  pattern?: string;
  resolve: (facts: MessageFacts) => void;
}

interface Slot {
  worker: Worker;
  tasks: Map<number, Task>;
  /** Requests not posted yet: sent together when BATCH are waiting or the current turn of the event loop ends. */
  outbox: ExamineRequest[];
  dead: boolean;
  /** Resolves the pending {@link Placing.finish} when the worker is done with its share (or gone). */
  placed?: (reply: PlaceReply | undefined) => void;
}

/** Parse threads by default: the main thread keeps one core for the fetch. */
export function defaultParseWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** The compiled worker: beside this module in dist/, or in dist/ when running from the sources (jest). */
function workerScript(): URL | undefined {
  const sibling = new URL('./parse-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = join(PACKAGE_ROOT, 'dist', 'src', 'harvest', 'parse-worker.js');
  return existsSync(built) ? pathToFileURL(built) : undefined;
}

export class ExaminePool {
  private readonly slots: Slot[] = [];
  private seq = 0;
  private turn = 0;
  private closing = false;
  /** Why a worker stopped or staging failed (the harvest warns once). */
  readonly problems: string[] = [];

  private started = false;
  private flushing = false;

  constructor(
    private readonly setup: WorkerSetup,
    private readonly wanted: number,
  ) {}

  /** Start the threads now (they load while the mailbox opens); else they start with the first message. */
  start(): void {
    this.startOnce();
  }

  private startOnce(): void {
    if (this.started) return;
    this.started = true;
    const script = this.wanted > 0 ? workerScript() : undefined;
    if (script) for (let i = 0; i < this.wanted; i++) this.slots.push(this.spawn(script));
  }

  /** Threads in use (0: everything on the main thread). */
  get size(): number {
    return this.slots.filter((s) => !s.dead).length;
  }

  private spawn(script: URL): Slot {
    const slot: Slot = { worker: new Worker(script, { workerData: this.setup }), tasks: new Map(), outbox: [], dead: false };
    // replies come in batches too: one message event per batch costs less than one per mail
    slot.worker.on('message', (replies: ExamineReply[] | PlaceReply) => {
      if (!Array.isArray(replies)) return slot.placed?.(replies);
      for (const reply of replies) {
        const task = slot.tasks.get(reply.seq);
        if (!task) continue;
        slot.tasks.delete(reply.seq);
        if (reply.stageError !== undefined) this.problems.push(`staging: ${reply.stageError}`);
        task.resolve(reply.facts);
      }
    });
    slot.worker.on('error', (err) => this.fail(slot, `parse worker failed: ${err.message}`));
    slot.worker.on('exit', (code) => {
      if (!this.closing) this.fail(slot, `parse worker exited (${code})`);
    });
    return slot;
  }

  /** A worker is gone: what it still had is examined here. */
  private fail(slot: Slot, why: string): void {
    if (slot.dead) return;
    slot.dead = true;
    this.problems.push(why);
    slot.outbox = [];
    for (const task of slot.tasks.values()) task.resolve(this.inline(task.raw, task.pattern));
    slot.tasks.clear();
    slot.placed?.(undefined);
  }

  private inline(raw: Buffer, pattern: string | undefined): MessageFacts {
    return examineMessage(raw, { subjectPattern: subjectPatternOf(pattern), maxBytes: this.setup.maxBytes }).facts;
  }

  examine(raw: Buffer, pattern?: string): Promise<MessageFacts> {
    this.startOnce();
    const slot = this.nextSlot();
    if (!slot) return Promise.resolve(this.inline(raw, pattern));
    const seq = this.seq++;
    return new Promise((resolve) => {
      slot.tasks.set(seq, { raw, pattern, resolve });
      // a copy the worker owns (the source's buffer may be a slice of a shared pool); not zero-filled first
      const copy = Buffer.allocUnsafeSlow(raw.length);
      raw.copy(copy);
      const request: ExamineRequest = { seq, raw: copy.buffer };
      if (pattern !== undefined) request.pattern = pattern;
      slot.outbox.push(request);
      if (slot.outbox.length >= BATCH) this.post(slot);
      else if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Post what each worker's outbox holds, as one message per worker (the buffers are transferred). */
  private flush(): void {
    this.flushing = false;
    for (const slot of this.slots) this.post(slot);
  }

  private post(slot: Slot): void {
    if (slot.dead || slot.outbox.length === 0) return;
    const batch = slot.outbox;
    slot.outbox = [];
    slot.worker.postMessage(batch, batch.map((r) => r.raw));
  }

  /**
   * Place series directories here and in a worker at once (after the fetch the worker is idle).
   * Jobs go to the worker as they are added, so it places while this thread makes the next ones
   * and does other work; {@link Placing.finish} then claims what is left, from the end.
   * `capacity`: at most how many jobs will be added.
   */
  placing(stateDir: string, capacity: number): Placing {
    return new Placing(stateDir, capacity, capacity > 1 ? this.slots.find((s) => !s.dead) : undefined);
  }

  /** Round robin over the live workers. */
  private nextSlot(): Slot | undefined {
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[this.turn++ % this.slots.length]!;
      if (!slot.dead) return slot;
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/**
 * One round of placing series directories, shared between this thread and one worker: each
 * job is claimed by compare-and-swap on a shared `Int32Array`, the worker from the start as
 * chunks reach it, this thread from the end once {@link finish} is called.
 */
export class Placing {
  private readonly jobs: PlaceJob[] = [];
  private readonly claims: Int32Array;
  private readonly shared: SharedArrayBuffer;
  private outbox: PlaceJob[] = [];
  private posted = 0;
  private readonly helped?: Promise<PlaceReply | undefined>;

  constructor(
    private readonly stateDir: string,
    private readonly capacity: number,
    private readonly slot: Slot | undefined,
  ) {
    this.shared = new SharedArrayBuffer(4 * Math.max(1, capacity));
    this.claims = new Int32Array(this.shared);
    if (slot) this.helped = new Promise((resolve) => (slot.placed = resolve));
  }

  add(job: PlaceJob): void {
    if (this.jobs.length >= this.capacity) throw new Error(`more series directories to place than the ${this.capacity} announced`);
    this.jobs.push(job);
    if (!this.slot) return;
    this.outbox.push(job);
    if (this.outbox.length >= PLACE_CHUNK) this.post(false);
  }

  private post(last: boolean): void {
    const slot = this.slot!;
    const jobs = this.outbox;
    this.outbox = [];
    if (!slot.dead) slot.worker.postMessage({ place: { stateDir: this.stateDir, claims: this.shared, first: this.posted, jobs, last } } satisfies PlaceRequest);
    this.posted += jobs.length;
  }

  /**
   * Place every job the worker has not claimed, wait for its share, and redo what it claimed and
   * did not finish (it died, or a job failed there: done again here, which reports the error).
   * Resolves with the number of jobs the worker placed.
   */
  async finish(): Promise<number> {
    if (this.slot) this.post(true);
    for (let i = this.jobs.length - 1; i >= 0; i--) if (claim(this.claims, i, CLAIM.main)) placeSeriesDir(this.stateDir, this.jobs[i]!);
    if (!this.helped) return 0;
    await this.helped;
    this.slot!.placed = undefined;
    return finishAbandoned(this.stateDir, this.jobs, this.claims);
  }
}
