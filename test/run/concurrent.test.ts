/**
 * `patchline harvest` and `patchline run` started together on the same state dir: neither may
 * trip over the other (no internal error, no raw ENOENT/ENOTEMPTY), and one more plain `run`
 * ends where a lone run would: no mail lost, nothing twice.
 *
 * PATCHLINE_CONCURRENT_TRIES (default 3) tries, each with a seeded stagger and order;
 * PATCHLINE_SEED replays.
 */
import { differences, endState, explainRuns, internalErrors, makeProject, type PatchlineRun, type Project } from './resume/support.js';
import { expectedState } from './resume/expected.js';
import { chooseSeed, prng } from './resume/kill-points.js';
import { say } from './resume/say.js';
import { seriesSpecs } from './resume/workload.js';

const TRIES = Number(process.env.PATCHLINE_CONCURRENT_TRIES || 3);
const SEED = chooseSeed();
const rand = prng(SEED);
/** Which starts first, and how much later the other one starts (ms). */
const plans = Array.from({ length: TRIES }, (_, i) => ({ index: i, harvestFirst: rand() < 0.5, stagger: Math.floor(rand() * 250) }));
say(`concurrent.test: ${TRIES} tries, seed ${SEED} (replay: PATCHLINE_SEED=${SEED})`);

const expected = expectedState(seriesSpecs());
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function together(p: Project, harvestFirst: boolean, stagger: number): Promise<{ harvest: PatchlineRun; run: PatchlineRun }> {
  const first = p.run(harvestFirst ? ['harvest'] : ['run']);
  await delay(stagger);
  const second = p.run(harvestFirst ? ['run'] : ['harvest']);
  const [a, b] = await Promise.all([first, second]);
  return harvestFirst ? { harvest: a, run: b } : { harvest: b, run: a };
}

describe('patchline harvest and patchline run at once on one state dir', () => {
  test.each(plans.map((p) => [`try ${p.index + 1}/${TRIES} (seed ${SEED}): ${p.harvestFirst ? 'harvest' : 'run'} first, the other ${p.stagger} ms later`, p] as const))(
    '%s',
    async (_name, plan) => {
      const p = await makeProject();
      try {
        const { harvest, run } = await together(p, plan.harvestFirst, plan.stagger);
        const final = await p.run();
        const state = await endState(p);
        const wrong = [...[harvest, run, final].flatMap(internalErrors), ...differences(expected, state)];
        say(
          `concurrent try ${plan.index + 1}/${TRIES} seed=${SEED} ${plan.harvestFirst ? 'harvest' : 'run'} first +${plan.stagger}ms: harvest exit ${harvest.code}, run exit ${run.code}, final run exit ${final.code}: ` +
            (wrong.length === 0 ? 'PASS' : `FAIL: ${wrong.slice(0, 4).join('; ')}`),
        );
        if (wrong.length) throw new Error(`${wrong.join('\n')}\n${explainRuns([harvest, run, final])}`);
        expect(state).toEqual(expected);
      } finally {
        await p.dispose();
      }
    },
  );
});
