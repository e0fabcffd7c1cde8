/**
 * npm run bench:apply — the apply step against plain `git am` on the same 200-patch series, on a
 * generated repository of 50k commits; and isomorphic-git against the git CLI on that repository
 * (docs/decisions/git-cli-vs-isomorphic-git.md). Prints times and ratios; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import git from 'isomorphic-git';
import { writeResult } from '../src/core/results.js';
import { PACKAGE_ROOT } from '../src/core/paths.js';
import { executeStep } from '../src/core/step.js';
import { Git } from '../src/git/git.js';
import type { HarvestResult } from '../src/harvest/types.js';
import { writeHistory } from './git-history.js';

const COMMITS = Number(process.env.BENCH_COMMITS ?? 50000);
const FILES = Number(process.env.BENCH_FILES ?? 20000);
const SERIES = 200;
const LOG_DEPTH = 10000;
const ROUNDS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed<T>(what: string, fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  const ms = performance.now() - t;
  console.log(`  ${what.padEnd(66)} ${(ms / 1000).toFixed(2).padStart(7)} s`);
  return { ms, value };
}

function ratio(label: string, a: number, b: number, target?: number): void {
  console.log(`  ${label.padEnd(66)} ${(a / b).toFixed(2).padStart(7)}${target ? `   (target <= ${target})` : ''}`);
}

/** harvest.json for the format-patch files of one series (the harvest's contract, schema-checked). */
function harvestFor(stateDir: string, files: string[]): HarvestResult {
  const now = new Date().toISOString();
  const patches = files.map((path, i) => {
    const text = readFileSync(path, 'utf8');
    return {
      number: i + 1,
      messageId: /^Message-Id: <([^>]+)>$/im.exec(text)![1]!,
      file: path.slice(stateDir.length + 1),
      author: { name: 'Dev', email: 'dev@example.org' },
      date: /^Date: (.*)$/m.exec(text)![1]!,
      subject: /^Subject: \[PATCH[^\]]*\] (.*)$/m.exec(text)![1]!,
      trailers: [],
    };
  });
  return {
    runId: 'bench', startedAt: now, finishedAt: now, sources: [], messages: [],
    series: [{ id: 'bench-series', repo: 'big', branch: 'master', version: 1, total: SERIES, status: 'ready', patches }],
    counts: { seen: 0, patch: 0, cover: 0, comment: 0, 'pull-request': 0, other: 0, duplicate: 0, unroutable: 0, quarantined: 0 },
  };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'patchline-bench-apply-'));
  try {
    console.log(`bench:apply in ${root}`);
    const upstream = new Git(join(root, 'upstream.git'), { GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.org' });
    fs.mkdirSync(upstream.dir);
    await upstream.run(['init', '--quiet', '--bare']);
    const gen = await timed(`generate ${COMMITS} commits (${FILES} files, git fast-import)`, () => writeHistory(upstream, { count: COMMITS, files: FILES, branch: 'work' }));
    const base = (await upstream.revParse(`${gen.value}~${SERIES}`))!;
    await upstream.run(['update-ref', 'refs/heads/master', base]);

    const stateDir = join(root, 'state');
    const archive = join(stateDir, 'archive', '2026-11-21', 'big', 'master', 'bench-series');
    await upstream.run(['format-patch', '--quiet', '--thread=shallow', '-o', archive, `${base}..work`]);
    const files = readdirSync(archive).sort().map((f) => join(archive, f));
    const runDir = join(stateDir, 'runs', '20261121T000000Z');
    writeResult(runDir, 'harvest', harvestFor(stateDir, files));
    const config = join(root, 'patchline.yaml');
    // gate none: the branch moves at apply, as plain git am's result is compared with it (the gate's push is publish's)
    writeFileSync(config, stringify({ stateDir: 'state', sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }], repos: { big: { url: 'upstream.git', branches: ['master'] } }, apply: { gate: 'none', trustedSenders: ['*'] } }));
    console.log(`  series: ${files.length} patches from git format-patch ${base.slice(0, 12)}..work`);

    // Warm clones (the steady state: the apply step keeps its clone under the state dir).
    const clone = join(stateDir, 'repos', 'big');
    await timed('git clone (CLI, local, no checkout)', () => new Git(root).run(['clone', '--quiet', '--no-checkout', upstream.dir, clone]));
    await new Git(clone).run(['checkout', '--quiet', '--detach', base]);
    const plain = new Git(join(root, 'plain'), { GIT_COMMITTER_NAME: 'patchline', GIT_COMMITTER_EMAIL: 'patchline@localhost' });
    await new Git(root).run(['clone', '--quiet', '--no-checkout', upstream.dir, plain.dir]);
    await plain.run(['checkout', '--quiet', '--detach', base]);

    console.log(`apply step vs plain git am (same series, same run, ${ROUNDS} alternating rounds, medians):`);
    const amTimes: number[] = [];
    const stepTimes: number[] = [];
    const inProcessTimes: number[] = [];
    const runStep = async (how: 'binary' | 'in-process'): Promise<number> => {
      await upstream.run(['update-ref', 'refs/heads/master', base]);
      // a new series each round: the ledger must not know it applied (the step records it again, as a real run does)
      rmSync(join(stateDir, 'ledger'), { recursive: true, force: true });
      const step = await timed(`apply step (${how === 'binary' ? 'node dist/steps/apply.js' : 'executeStep, node already up'})`, async () =>
        how === 'binary'
          ? spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist/steps/apply.js'), '--config', config, '--run-dir', runDir, '--quiet'], { stdio: 'inherit' }).status
          : executeStep('apply', { config, runDir, quiet: true }),
      );
      if (step.value !== 0) throw new Error(`the apply step exited ${step.value}`);
      const pushed = await upstream.revParse('refs/heads/master');
      if ((await upstream.output(['rev-parse', `${pushed}^{tree}`])) !== (await plain.output(['rev-parse', 'HEAD^{tree}']))) throw new Error('apply step and git am gave different trees');
      return step.ms;
    };
    for (let round = 1; round <= ROUNDS; round++) {
      await plain.run(['checkout', '--quiet', '--detach', base]);
      const am = await timed(`plain git am --3way --message-id (${SERIES} patches), round ${round}`, () => plain.run(['am', '--quiet', '--3way', '--message-id', '--', ...files]));
      amTimes.push(am.ms);
      stepTimes.push(await runStep('binary'));
      inProcessTimes.push(await runStep('in-process'));
    }
    const [amMedian, stepMedian, inProcessMedian] = [median(amTimes), median(stepTimes), median(inProcessTimes)];
    console.log(`  medians: plain git am ${(amMedian / 1000).toFixed(2)} s, apply step ${(stepMedian / 1000).toFixed(2)} s (binary), ${(inProcessMedian / 1000).toFixed(2)} s (in-process)`);
    ratio('ratio apply step (binary: node start, fetch, check, am, push) / git am', stepMedian, amMedian, 1.15);
    ratio('ratio apply step (in-process, no node start) / git am', inProcessMedian, amMedian, 1.15);

    console.log(`isomorphic-git vs git CLI on the same ${COMMITS}-commit repository:`);
    const cliLog = await timed(`git log -n${LOG_DEPTH} (CLI, messages)`, () => plain.run(['log', `-n${LOG_DEPTH}`, '--format=%H%x00%B', 'origin/work']));
    const isoLog = await timed(`git.log depth ${LOG_DEPTH} (isomorphic-git)`, () => git.log({ fs, dir: plain.dir, ref: 'refs/remotes/origin/work', depth: LOG_DEPTH }));
    ratio('ratio isomorphic-git / CLI (log)', isoLog.ms, cliLog.ms);
    const fresh = join(root, 'fresh');
    await new Git(root).run(['clone', '--quiet', '--no-checkout', upstream.dir, fresh]);
    const freshIso = join(root, 'fresh-iso');
    await new Git(root).run(['clone', '--quiet', '--no-checkout', upstream.dir, freshIso]);
    const cliCo = await timed(`checkout of ${FILES} files (CLI)`, () => new Git(fresh).run(['checkout', '--quiet', '--detach', 'origin/work']));
    const isoCo = await timed(`checkout of ${FILES} files (isomorphic-git)`, () => git.checkout({ fs, dir: freshIso, ref: 'origin/work', force: true }));
    ratio('ratio isomorphic-git / CLI (checkout)', isoCo.ms, cliCo.ms);
    console.log('  isomorphic-git clone: not measured here (it speaks only HTTP; no server in the bench); it has no am/apply.');
  } finally {
    if (process.env.BENCH_KEEP) console.log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

await main();
