/**
 * Where to kill a run: windows over the stages of a reference run's timeline (the
 * `patchline <step>: run dir` line each step prints on stderr when it starts), and a seeded,
 * stratified choice of kill times in them.
 */
import { randomInt } from 'node:crypto';
import type { PatchlineRun, RunControl } from './spawn.js';
import { seededRandom } from '../../harvest/support.js';

export const STAGES = ['harvest', 'apply', 'build', 'publish', 'report'] as const;
export type Stage = (typeof STAGES)[number];
/** The moments around each step boundary (a step writing its result, the next one starting), and before and after everything. */
export const BOUNDARIES = ['startup', 'harvest|apply', 'apply|build', 'build|publish', 'publish|report', 'report|exit'] as const;
export type WindowName = Stage | (typeof BOUNDARIES)[number];

export interface Window {
  name: WindowName;
  from: number;
  to: number;
}

/** Half the width of a boundary window, in ms. */
const EDGE = 25;
const STAGE_LINE = /^patchline (harvest|apply|build|publish|report): run dir /;

/** When each step started in a run, in ms since its spawn. */
export function stageStarts(run: PatchlineRun): Partial<Record<Stage, number>> {
  const starts: Partial<Record<Stage, number>> = {};
  for (const l of run.lines) {
    const m = STAGE_LINE.exec(l.text);
    if (m && starts[m[1] as Stage] === undefined) starts[m[1] as Stage] = l.t;
  }
  return starts;
}

/** The stage a run was in when its stderr stopped (for a killed run: where the kill landed). */
export function lastStage(run: PatchlineRun): WindowName {
  const starts = Object.entries(stageStarts(run)).sort((a, b) => a[1] - b[1]);
  return (starts.at(-1)?.[0] as WindowName | undefined) ?? 'startup';
}

/** Where an uninterrupted run is when: each stderr line, each step's start, the end (ms since the spawn). */
export interface Timeline {
  lines: number[];
  starts: Record<Stage, number>;
  end: number;
}

/**
 * The timeline of uninterrupted runs of the same workload (they print the same lines in the
 * same order): each gap between two lines as short as in the fastest of them (the first run of
 * a worker is slower), so a kill planned inside a stage lands inside it.
 */
export function timelineOf(runs: PatchlineRun[]): Timeline {
  for (const r of runs) {
    const missing = STAGES.filter((n) => stageStarts(r)[n] === undefined);
    if (missing.length) throw new Error(`an uninterrupted run printed no start line for ${missing.join(', ')}: cannot place kill points (stderr:\n${r.stderr})`);
  }
  const base = runs[0]!;
  const alike = runs.filter((r) => r.lines.length === base.lines.length);
  const fastest = (gap: (r: PatchlineRun) => number) => Math.min(...alike.map(gap));
  const lines = [fastest((r) => r.lines[0]!.t)];
  for (let i = 1; i < base.lines.length; i++) lines.push(lines[i - 1]! + fastest((r) => r.lines[i]!.t - r.lines[i - 1]!.t));
  const end = lines.at(-1)! + fastest((r) => r.durationMs - r.lines.at(-1)!.t);
  const starts = {} as Record<Stage, number>;
  for (const n of STAGES) starts[n] = lines[base.lines.findIndex((l) => STAGE_LINE.exec(l.text)?.[1] === n)]!;
  return { lines, starts, end };
}

/** The kill windows of a timeline: each stage, and the moments around each boundary. */
export function windowsOf(timeline: Timeline): Window[] {
  const at = (n: Stage) => timeline.starts[n];
  const end = timeline.end;
  const stages: Window[] = STAGES.map((n, i) => ({ name: n, from: at(n), to: i + 1 < STAGES.length ? at(STAGES[i + 1]!) : end }));
  const edge = (name: WindowName, t: number): Window => ({ name, from: Math.max(0, t - EDGE), to: t + EDGE });
  return [
    ...stages,
    { name: 'startup', from: 0, to: at('harvest') },
    edge('harvest|apply', at('apply')),
    edge('apply|build', at('build')),
    edge('build|publish', at('publish')),
    edge('publish|report', at('report')),
    { name: 'report|exit', from: Math.max(at('report'), end - 2 * EDGE), to: end },
  ];
}

/** The harvest tests' seeded PRNG (mulberry32), uniform in [0, 1). */
export const prng = seededRandom;

/** PATCHLINE_SEED when set (a replay), else a fresh one. */
export function chooseSeed(): number {
  const env = process.env.PATCHLINE_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0) throw new Error(`PATCHLINE_SEED=${env}: expected a non-negative integer`);
    return n;
  }
  return randomInt(2 ** 31);
}

export interface KillPlan {
  index: number;
  window: WindowName;
  /** Where in the window, uniform in [0, 1). */
  u: number;
}

function shuffle<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * `count` kill points, stratified: round-robin over the windows (every stage in a shuffled
 * order first, then the boundaries), a uniform place in each. Fixed before the reference run
 * exists, so the test names are known up front.
 */
export function planKills(count: number, seed: number): KillPlan[] {
  const rand = prng(seed);
  const order: WindowName[] = [...shuffle(STAGES, rand), ...shuffle(BOUNDARIES, rand)];
  return Array.from({ length: count }, (_, i) => ({ index: i, window: order[i % order.length]!, u: rand() }));
}

/** The kill time of a plan in ms since the reference's spawn, placed in its window. */
export function killTime(plan: KillPlan, windows: Window[]): number {
  const w = windows.find((x) => x.name === plan.window)!;
  return Math.round(w.from + plan.u * (w.to - w.from));
}

/** A kill time as `offset` ms after the run's stderr line number `anchor` (0-based), or after the spawn. */
export interface KillSchedule {
  anchor: number | 'spawn';
  offset: number;
}

export function scheduleKill(at: number, timeline: Timeline): KillSchedule {
  let anchor = -1;
  timeline.lines.forEach((t, i) => {
    if (t <= at) anchor = i;
  });
  return anchor < 0 ? { anchor: 'spawn', offset: at } : { anchor, offset: Math.round(at - timeline.lines[anchor]!) };
}

export const describeSchedule = (s: KillSchedule): string => (s.anchor === 'spawn' ? `spawn+${s.offset}ms` : `line ${s.anchor + 1}+${s.offset}ms`);

/**
 * The run control that kills at a schedule: timed from the live stderr line it is anchored to,
 * so a run faster or slower than the reference is still killed where planned.
 */
export function killControl(schedule: KillSchedule): RunControl {
  if (schedule.anchor === 'spawn') return { killAfterMs: schedule.offset };
  let seen = 0;
  return {
    onLine(_line, kill) {
      // unref: a run that ends first must not keep the test waiting for a kill of nothing
      if (seen++ === schedule.anchor) setTimeout(kill, schedule.offset).unref();
    },
  };
}
