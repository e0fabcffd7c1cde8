/**
 * `patchline run` killed with SIGKILL (the whole process group) at a moment chosen in every
 * stage, then run again with no flags: the remote, the yum repos and the mails end as if it had
 * never been killed, nothing applied, built or mailed twice.
 *
 * PATCHLINE_KILL_POINTS (default 6) points, stratified over the stage windows of uninterrupted
 * runs; PATCHLINE_SEED replays a seed printed by an earlier run.
 */
import { PLATFORMS, differences, endState, expectExit, explainRuns, internalErrors, makeProject, rebuilds, type EndState, type PatchlineRun } from './resume/support.js';
import { expectedState } from './resume/expected.js';
import { chooseSeed, describeSchedule, killControl, killTime, lastStage, planKills, scheduleKill, timelineOf, windowsOf, type KillPlan, type Timeline, type Window } from './resume/kill-points.js';
import { say } from './resume/say.js';
import { seriesSpecs } from './resume/workload.js';

/**
 * The list's mailbox is the mail source and also gets the report mails, and report.deliveryCheck
 * looks there: the setup in which a kill in the middle of an SMTP transaction must lose no mail
 * and send none twice (docs/decisions/mail-exactly-once.md).
 */
const KILL_PROJECT = { source: 'imap', deliveryCheck: true } as const;
const POINTS = Number(process.env.PATCHLINE_KILL_POINTS || 6);
const SEED = chooseSeed();
const plans = planKills(POINTS, SEED);
say(`kill.test: ${POINTS} kill points, seed ${SEED} (replay: PATCHLINE_SEED=${SEED})`);

interface Reference {
  /** Project A: a run, then a second one; project B: one run (a second timeline, and a determinism check). */
  first: PatchlineRun;
  second: PatchlineRun;
  other: PatchlineRun;
  state: EndState;
  afterSecond: EndState;
  otherState: EndState;
  /** The SRPMs project A built (rpmbuild --rebuild ended well), per platform. */
  rebuilt: string[];
  timeline: Timeline;
  windows: Window[];
}
let ref: Reference | undefined;

async function uninterrupted(runs: number): Promise<{ runs: PatchlineRun[]; states: EndState[]; rebuilt: string[] }> {
  const p = await makeProject(KILL_PROJECT);
  try {
    const out = { runs: [] as PatchlineRun[], states: [] as EndState[], rebuilt: [] as string[] };
    for (let i = 0; i < runs; i++) {
      out.runs.push(await p.run());
      out.states.push(await endState(p));
    }
    out.rebuilt = rebuilds(p.stateDir);
    return out;
  } finally {
    await p.dispose();
  }
}

const describeRun = (r: PatchlineRun): string => (r.killed ? `killed in ${lastStage(r)}` : `exit ${r.code ?? r.signal} (not killed)`);

describe('patchline run killed at any moment, then plain runs: the end state of a run never killed', () => {
  beforeAll(async () => {
    const a = await uninterrupted(2);
    const b = await uninterrupted(1);
    const timeline = timelineOf([a.runs[0]!, b.runs[0]!]);
    const windows = windowsOf(timeline);
    ref = { first: a.runs[0]!, second: a.runs[1]!, other: b.runs[0]!, state: a.states[0]!, afterSecond: a.states[1]!, otherState: b.states[0]!, rebuilt: a.rebuilt, timeline, windows };
    say(`kill.test: uninterrupted runs ${Math.round(ref.first.durationMs)} and ${Math.round(ref.other.durationMs)} ms; windows ${windows.map((w) => `${w.name} ${Math.round(w.from)}-${Math.round(w.to)}`).join(', ')}`);
  });

  test('reference: one uninterrupted run applies, builds, publishes and mails what the workload is made to do', () => {
    expect(ref!.first.killed).toBe(false);
    expect(internalErrors(ref!.first)).toEqual([]);
    expect(differences(expectedState(seriesSpecs()), ref!.state)).toEqual([]);
    expect(ref!.state).toEqual(expectedState(seriesSpecs()));
  });

  test('reference: every build is seen from outside (the RPMs each run dir holds), so "built twice" can be caught', () => {
    const applied = seriesSpecs().filter((s) => s.fate === 'applied').length;
    expect(ref!.rebuilt).toHaveLength(applied * PLATFORMS.length);
    expect(new Set(ref!.rebuilt).size).toBe(ref!.rebuilt.length);
  });

  test('reference: a second run does nothing, and reports nothing new', () => {
    expectExit(ref!.second, 0, 'the second run');
    expect(internalErrors(ref!.second)).toEqual([]);
    expect(ref!.afterSecond).toEqual(ref!.state);
  });

  test('reference: another fresh project reaches the same end state (the comparison is meaningful)', () => {
    expect(ref!.otherState).toEqual(ref!.state);
  });

  const label = (p: KillPlan) => `kill point ${p.index + 1}/${POINTS} (seed ${SEED}): in ${p.window} at ${(p.u * 100).toFixed(0)}% of it`;
  test.each(plans.map((p) => [label(p), p] as const))('%s', async (_name, plan) => {
    if (!ref) throw new Error('no reference runs');
    const at = killTime(plan, ref.windows);
    const schedule = scheduleKill(at, ref.timeline);
    const p = await makeProject(KILL_PROJECT);
    try {
      const runs = [await p.run(['run'], killControl(schedule))];
      // plain reruns until one ends by itself (a rerun is never killed: one, normally)
      while (runs.at(-1)!.killed) runs.push(await p.run());
      const afterRerun = differences(ref.state, await endState(p));
      const final = await p.run();
      runs.push(final);
      const state = await endState(p);
      const diffs = differences(ref.state, state);
      const internal = runs.flatMap(internalErrors);
      const wrong = [...internal, ...diffs, ...(final.code === 0 ? [] : [`the final run exit ${final.code}`])];
      const reruns = runs.length > 2 ? `rerun exit ${runs.slice(1, -1).map((r) => r.code).join(', ')}` : 'no rerun';
      say(
        `kill point ${plan.index + 1}/${POINTS} seed=${SEED} window=${plan.window} t=${at}ms (${describeSchedule(schedule)}): ${describeRun(runs[0]!)}; ` +
          `${reruns} (${afterRerun.length === 0 ? 'reference reached' : 'reference not reached'}); final exit ${final.code}: ` +
          (wrong.length === 0 ? 'PASS' : `FAIL: ${wrong.slice(0, 4).join('; ')}`),
      );
      if (wrong.length) throw new Error(`${wrong.join('\n')}\n${explainRuns(runs)}`);
      expect(state).toEqual(ref.state);
    } finally {
      await p.dispose();
    }
  });
});
