/**
 * The upstream pages and `patchline upstream status --json` over a generated store of 100,000
 * build records (PATCHLINE_BENCH_RECORDS), 12 projects x 3 platforms: the time to open the store,
 * to write the pages from an open store (what an upstream run adds at its end), and the whole
 * `status --json` command in its own process. Target < 1 s each; the median of
 * PATCHLINE_BENCH_ROUNDS runs (default 5). Run alone: `node dist/bench/upstream-pages.js`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendJsonLines } from '../src/core/jsonl.js';
import { writeUpstreamPages } from '../src/upstream/pages.js';
import { queueFileOf, upstreamStatusView } from '../src/upstream/status.js';
import { upstreamStatus } from '../src/upstream/status-command.js';
import { BUILDS_FILE, openUpstreamStore, upstreamDir } from '../src/upstream/store.js';
import type { UpstreamBuildRecord, UpstreamBuildStatus, UpstreamQueue } from '../src/upstream/types.js';

const RECORDS = Number(process.env.PATCHLINE_BENCH_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.PATCHLINE_BENCH_ROUNDS ?? 5);
const PROJECTS = ['nova', 'neutron', 'glance', 'keystone', 'cinder', 'swift', 'heat', 'horizon', 'ironic', 'octavia', 'placement', 'manila'];
const PLATFORMS = ['el9', 'el10', 'f41'];
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const TARGET_MS = 1000;

/** A small deterministic PRNG (mulberry32): the same store every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (rand: () => number) => Array.from({ length: 5 }, () => Math.floor(rand() * 2 ** 32).toString(16).padStart(8, '0')).join('');

/** Builds as upstream runs make them: mostly successes, runs of failures, RETRYs rebuilt, now and then a bisection. */
function generate(n: number, start: number): UpstreamBuildRecord[] {
  const rand = prng(15);
  const out: UpstreamBuildRecord[] = [];
  const failing = new Map<string, boolean>();
  for (let i = 0; out.length < n; i++) {
    const project = PROJECTS[i % PROJECTS.length]!;
    const sha = hex(rand);
    const distgit = hex(rand);
    const at = start + i * 60_000;
    const commitTime = new Date(at - 3_600_000).toISOString();
    const commit = { sha, commitTime, author: { name: `Dev ${i % 97}`, email: `dev${i % 97}@example.org` }, subject: `${project}: change ${i}: adjust the handling of <things> & more in the api layer` };
    for (const platform of PLATFORMS) {
      const key = `${project}/${platform}`;
      const r = rand();
      if (failing.get(key) ? r < 0.3 : r < 0.03) failing.set(key, !failing.get(key));
      const retry = !failing.get(key) && rand() < 0.04;
      const status: UpstreamBuildStatus = failing.get(key) ? 'FAILED' : retry ? 'RETRY' : 'SUCCESS';
      const dir = `repos/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}_${distgit.slice(0, 8)}`;
      const nvr = `${project}-29.0.0-0.${commitTime.replace(/\D/g, '').slice(0, 14)}.${sha.slice(0, 7)}.${platform}`;
      out.push({
        id: `${key}/${sha}_${distgit.slice(0, 8)}`,
        project,
        platform,
        commit,
        distgitSha: distgit,
        status,
        builtAt: new Date(at).toISOString(),
        runId: new Date(at).toISOString().replace(/[-:]/g, '').slice(0, 15) + 'Z',
        nvr,
        rpms: status === 'SUCCESS' ? [`${nvr}.noarch.rpm`, `python3-${nvr}.noarch.rpm`] : [],
        log: `${dir}/${platform}/build.log`,
        ...(status === 'SUCCESS' ? { repoPath: dir } : {}),
        retries: 0,
        ...(status === 'FAILED' ? { failure: { step: 'rpmbuild', signature: 'error: Installed (but unpackaged) file(s) found', message: 'error: Installed (but unpackaged) file(s) found: /usr/lib/python3.12/site-packages/x' } } : {}),
        ...(status === 'FAILED' && rand() < 0.1 ? { firstBadCommit: commit } : {}),
      });
    }
  }
  return out.slice(0, n);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Took {
  /** Wall clock, ms. */
  wall: number;
  /** CPU of this process (user + system), ms: what the wall time is on an idle machine. */
  cpu: number;
}

function timed<T>(fn: () => T): [T, Took] {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(c);
  return [value, { wall: Number(process.hrtime.bigint() - t) / 1e6, cpu: (used.user + used.system) / 1000 }];
}

const took = (fn: () => unknown): Took => timed(fn)[1];

async function tookAsync(fn: () => Promise<unknown>): Promise<Took> {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(c);
  return { wall: Number(process.hrtime.bigint() - t) / 1e6, cpu: (used.user + used.system) / 1000 };
}

/** A child process: wall clock only. */
const wallOf = (fn: () => unknown): Took => ({ wall: took(fn).wall, cpu: NaN });

function report(what: string, runs: Took[]): void {
  const wall = median(runs.map((r) => r.wall));
  const cpu = median(runs.map((r) => r.cpu));
  const cpuText = Number.isNaN(cpu) ? '' : `, cpu ${cpu.toFixed(0).padStart(5)} ms`;
  const over = Math.min(wall, Number.isNaN(cpu) ? wall : cpu) > TARGET_MS ? '  OVER the 1 s target' : '';
  console.log(`${what.padEnd(50)} median wall ${wall.toFixed(0).padStart(5)} ms${cpuText}  (walls: ${runs.map((r) => r.wall.toFixed(0)).join(', ')})${over}`);
}

export async function benchPages(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pl-bench-upages-'));
  try {
    const state = join(dir, 'state');
    const records = generate(RECORDS, Date.UTC(2026, 0, 1));
    // the store's own journal, appended in batches (a put per record would time 100,000 fsyncs, not the pages)
    for (let i = 0; i < records.length; i += 5000) appendJsonLines(join(upstreamDir(state), BUILDS_FILE), records.slice(i, i + 5000));
    const queue: UpstreamQueue = {
      computedAt: new Date().toISOString(),
      runId: 'bench',
      queue: records.slice(-6).map((r) => ({ project: r.project, platform: r.platform, commit: r.commit, distgitSha: r.distgitSha, why: 'new commit' })),
      projects: PROJECTS.map((project) => ({ project, queued: 0, idle: 'up to date' as const })),
    };
    writeFileSync(queueFileOf(state), JSON.stringify(queue));
    const config = join(dir, 'patchline.yaml');
    const upstream = { projects: Object.fromEntries(PROJECTS.map((p) => [p, { upstream: `${p}.git`, distgit: `${p}-distgit.git`, spec: `${p}.spec`, platforms: PLATFORMS }])), commitUrl: 'https://opendev.org/openstack/{project}/commit/{sha}' };
    writeFileSync(config, JSON.stringify({ sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }], repos: { nova: { url: 'nova.git', branches: ['master'] } }, stateDir: 'state', upstream }));
    const size = statSync(join(upstreamDir(state), BUILDS_FILE)).size;
    console.log(`upstream pages over ${records.length} build records (${PROJECTS.length} projects x ${PLATFORMS.length} platforms, builds.jsonl ${(size / 1e6).toFixed(0)} MB), ${ROUNDS} rounds`);

    console.log(`(machine load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs: on a busy machine the cpu column is what wall would be on an idle one)`);
    const open: Took[] = [];
    const view: Took[] = [];
    const pages: Took[] = [];
    const status: Took[] = [];
    const cli: Took[] = [];
    const startup: Took[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const [store, opened] = timed(() => openUpstreamStore(state));
      open.push(opened);
      view.push(took(() => JSON.stringify(upstreamStatusView(store, queue))));
      pages.push(took(() => writeUpstreamPages(store, queue, join(dir, 'pages'), { commitUrl: upstream.commitUrl })));
      store.close();
      status.push(await tookAsync(async () => JSON.stringify(await upstreamStatus({ config }))));
      // as installed: the CLI's own shebang (node with its flags)
      cli.push(wallOf(() => execFileSync(CLI, ['upstream', 'status', '--json', '--config', config], { maxBuffer: 64 << 20 })));
      startup.push(wallOf(() => execFileSync(CLI, ['--version'])));
    }
    report('open the store (every line read)', open);
    report('status view + JSON (open store)', view);
    report('write the pages (open store)', pages);
    report('pages in a fresh process (open + write)', open.map((o, i) => ({ wall: o.wall + pages[i]!.wall, cpu: o.cpu + pages[i]!.cpu })));
    report('status --json in process (config, open, view)', status);
    report('`patchline upstream status --json` (a process)', cli);
    report('`patchline --version` (start-up, for reference)', startup);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchPages();
