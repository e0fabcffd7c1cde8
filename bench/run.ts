/**
 * `npm run bench:run`: the demo end to end (a fresh copy of examples/demo), timing the whole run and
 * the time spent inside the external tools (git, rpmbuild, rpmspec, rpm, createrepo_c, rsync), measured
 * by PATH shims that log each call's start and end. Target: total - tools <= 1 s.
 * Then: a run with no new mail and nothing unfinished on a ledger of 10,000 finished series
 * (the demo's finished entries copied under new ids), median of 5. Target: < 0.5 s.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/core/paths.js';
import { Ledger } from '../src/ledger/store.js';

const TOOLS = ['git', 'rpmbuild', 'rpmspec', 'rpm', 'createrepo_c', 'rsync', 'bwrap', 'rpmlint', 'dnf'];
const TARGET_SECONDS = 1;

function which(tool: string): string {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'which', tool], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tool} is not installed`);
  return r.stdout.trim();
}

/** A shim per tool in `dir`: runs the real one, appends "<tool> <start ns> <end ns>" to the log. */
function writeShims(dir: string, log: string): void {
  for (const tool of TOOLS) {
    const real = which(tool);
    const shim = join(dir, tool);
    writeFileSync(shim, `#!/bin/sh\ns=$(date +%s%N)\n"${real}" "$@"\nrc=$?\necho "${tool} $s $(date +%s%N)" >> "${log}"\nexit $rc\n`);
    chmodSync(shim, 0o755);
  }
}

/** Seconds covered by the union of the intervals (tools may run in parallel). */
function unionSeconds(intervals: Array<[number, number]>): number {
  let total = 0;
  let end = -Infinity;
  for (const [s, e] of [...intervals].sort((a, b) => a[0] - b[0])) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total / 1e9;
}

const work = mkdtempSync(join(tmpdir(), 'patchline-bench-run-'));
const shims = mkdtempSync(join(tmpdir(), 'patchline-bench-shims-'));
const log = join(shims, 'calls.log');
writeFileSync(log, '');
writeShims(shims, log);

const started = process.hrtime.bigint();
const run = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli.js'), 'demo', '--dir', work, '--quiet'], {
  encoding: 'utf8',
  env: { ...process.env, PATH: `${shims}:${process.env.PATH}` },
});
const total = Number(process.hrtime.bigint() - started) / 1e9;
if (run.status !== 0) {
  process.stderr.write(run.stderr);
  throw new Error(`the demo failed (exit ${run.status})`);
}

const calls = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' '));
const byTool = new Map<string, { calls: number; intervals: Array<[number, number]> }>();
for (const [tool, s, e] of calls) {
  const entry = byTool.get(tool!) ?? { calls: 0, intervals: [] };
  entry.calls += 1;
  entry.intervals.push([Number(s), Number(e)]);
  byTool.set(tool!, entry);
}
const tools = unionSeconds(calls.map(([, s, e]) => [Number(s), Number(e)]));
const overhead = total - tools;

console.log('patchline run, the demo end to end (harvest -> apply -> build -> publish -> report)');
for (const [tool, { calls: n, intervals }] of [...byTool].sort()) console.log(`  ${tool.padEnd(13)} ${String(n).padStart(4)} calls  ${unionSeconds(intervals).toFixed(3)} s`);
console.log(`  total          ${total.toFixed(3)} s`);
console.log(`  in tools       ${tools.toFixed(3)} s (${((tools / total) * 100).toFixed(0)} %)`);
console.log(`  difference     ${overhead.toFixed(3)} s   target <= ${TARGET_SECONDS} s: ${overhead <= TARGET_SECONDS ? 'met' : 'NOT met'}`);

/** The state dir's ledger grown to `n` finished series: copies of the demo's finished (closed) entries, written as runs would. */
function growLedger(stateDir: string, n: number): void {
  const ledger = Ledger.open(stateDir);
  const done = [...ledger.allWithClosed()];
  if (done.some((e) => !e.closed)) throw new Error('the demo left a series unfinished');
  for (let i = 0; (i + 1) * done.length <= n; i++) {
    ledger.put(done.map((e) => ({ ...e, id: `${e.id}-copy${i}`, series: { ...e.series, id: `${e.id}-copy${i}` } })));
  }
}

const LEDGER_SIZE = 10_000;
const QUIET_TARGET_SECONDS = 0.5;
growLedger(join(work, '.work/state'), LEDGER_SIZE);
const quiet: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli.js'), 'run', '--config', join(work, 'patchline.yaml')], { encoding: 'utf8', cwd: work });
  quiet.push(Number(process.hrtime.bigint() - t0) / 1e9);
  if (r.status !== 0 || !/nothing to do/.test(r.stderr)) {
    process.stderr.write(r.stderr);
    throw new Error(`the run with no new mail did not stop at "nothing to do" (exit ${r.status})`);
  }
}
const median = [...quiet].sort((a, b) => a - b)[2]!;
console.log(`patchline run with no new mail, ledger of ${[...Ledger.open(join(work, '.work/state')).allWithClosed()].length} finished series`);
console.log(`  runs           ${quiet.map((q) => q.toFixed(3)).join(' ')} s`);
console.log(`  median         ${median.toFixed(3)} s   target < ${QUIET_TARGET_SECONDS} s: ${median < QUIET_TARGET_SECONDS ? 'met' : 'NOT met'}`);
rmSync(work, { recursive: true, force: true });
rmSync(shims, { recursive: true, force: true });

/**
 * Issue 14: the build sandbox's cost per build. The demo package's SRPM rebuilt with
 * `build.sandbox: bwrap` and with `none` (plain rpmbuild, scrubbed environment), alternating, and
 * a whole local build (rpmspec reads, rpmbuild -bs, --rebuild) the same way; medians of 7 each.
 * Target: the sandbox adds <= 10 % or <= 0.2 s per build, whichever is larger.
 */
async function benchSandbox(): Promise<void> {
  const { cpSync, mkdirSync } = await import('node:fs');
  const { buildSrpm } = await import('../src/rpm/srpm.js');
  const { rebuildWithRpmbuild } = await import('../src/rpm/rebuild.js');
  const { readSpec } = await import('../src/rpm/spec.js');
  const root = mkdtempSync(join(tmpdir(), 'patchline-bench-sandbox-'));
  chmodSync(root, 0o755); // the sandbox user reads the spec and sources (as in a run dir)
  const sources = join(root, 'SOURCES');
  mkdirSync(sources);
  cpSync(join(PACKAGE_ROOT, 'examples/demo/hello'), join(root, 'hello-1.0'), { recursive: true });
  spawnSync('tar', ['-czf', join(sources, 'hello-1.0.tar.gz'), '-C', root, 'hello-1.0']);
  const spec = join(root, 'hello.spec');
  cpSync(join(root, 'hello-1.0/hello.spec'), spec);
  const srpm = await buildSrpm(spec, sources, join(root, 'srpm'), {}, 'none');
  const modes = ['bwrap', 'none'] as const;
  const rounds = 7;
  let n = 0;
  const time = async (work: () => Promise<unknown>): Promise<number> => {
    const t0 = process.hrtime.bigint();
    await work();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const kinds = {
    'rpmbuild --rebuild': (mode: (typeof modes)[number]) => rebuildWithRpmbuild(srpm, join(root, `job-${n++}`), { sandbox: mode }),
    'whole local build': async (mode: (typeof modes)[number]) => {
      const job = join(root, `job-${n++}`);
      await readSpec(spec, {}, mode);
      await readSpec(spec, { dist: '%{nil}' }, mode);
      const own = await buildSrpm(spec, sources, job, {}, mode);
      const out = await rebuildWithRpmbuild(own, job, { sandbox: mode });
      if (!out.ok) throw new Error(`the ${mode} build failed: ${out.message}`);
    },
  };
  console.log(`the build sandbox (bubblewrap) against plain rpmbuild, the demo package, median of ${rounds} alternating runs`);
  for (const [name, build] of Object.entries(kinds)) {
    const seconds: Record<string, number[]> = { bwrap: [], none: [] };
    for (let i = 0; i < rounds; i++) for (const mode of i % 2 ? [...modes].reverse() : modes) seconds[mode]!.push(await time(() => build(mode)));
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [boxed, plain] = [med(seconds.bwrap!), med(seconds.none!)];
    const cost = boxed - plain;
    const allowed = Math.max(0.1 * plain, 0.2);
    console.log(`  ${name.padEnd(19)} sandboxed ${boxed.toFixed(3)} s, plain ${plain.toFixed(3)} s: +${cost.toFixed(3)} s (${((cost / plain) * 100).toFixed(0)} %)   target <= ${allowed.toFixed(3)} s: ${cost <= allowed ? 'met' : 'NOT met'}`);
  }
  rmSync(root, { recursive: true, force: true });
}
await benchSandbox();
