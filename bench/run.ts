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

const TOOLS = ['git', 'rpmbuild', 'rpmspec', 'rpm', 'createrepo_c', 'rsync'];
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
