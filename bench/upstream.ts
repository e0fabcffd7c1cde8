/**
 * `npm run bench:upstream`: 3 projects x 200 upstream commits of a trivial noarch package
 * (UPSTREAM_BENCH_COMMITS=20 for a quick look), built by `patchline upstream` in this process:
 * a first run (each head), then one run over every other commit. Reports the total time, the
 * time inside git, the rpm tools (rpmbuild, rpmspec, rpm, in bwrap) and createrepo_c, measured
 * by wrapping child_process.spawn/execFile (each call's start and end, overlaps merged), and
 * patchline's own share per commit. Target: patchline's own time <= 10 % of the total.
 * Then the pages benchmark (bench/upstream-pages.ts) over a store of 100,000 records
 * (UPSTREAM_BENCH_PAGES=0 skips it).
 */
import childProcess from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

type Kind = 'git' | 'rpm' | 'createrepo_c' | 'other';
const spans: Array<{ kind: Kind; start: number; end: number }> = [];

function kindOf(cmd: string, args: readonly string[]): Kind {
  const name = cmd.split('/').pop()!;
  if (name === 'git') return 'git';
  if (name === 'createrepo_c') return 'createrepo_c';
  if (['rpmbuild', 'rpmspec', 'rpm', 'mock'].includes(name)) return 'rpm';
  if (name === 'bwrap') return args.some((a) => /(^|\/)(rpmbuild|rpmspec|rpm)$/.test(a)) ? 'rpm' : 'other';
  return 'other';
}

/** Time every child process patchline starts (spawn and execFile: git, the rpm tools, createrepo_c, rsync). */
function instrument(): void {
  const cp = childProcess as unknown as Record<string, (...a: unknown[]) => childProcess.ChildProcess>;
  for (const fn of ['spawn', 'execFile'] as const) {
    const real = cp[fn]!;
    cp[fn] = (...a: unknown[]) => {
      // from before the fork: starting the process is part of running the tool
      const span = { kind: kindOf(String(a[0]), Array.isArray(a[1]) ? (a[1] as string[]) : []), start: performance.now(), end: 0 };
      const child = real(...a);
      spans.push(span);
      child.on('close', () => (span.end = performance.now()));
      return child;
    };
  }
  syncBuiltinESMExports();
}

/** Milliseconds covered by the spans of a kind (or all) within [from, to], overlaps counted once. */
function covered(from: number, to: number, kind?: Kind): number {
  const list = spans.filter((s) => (!kind || s.kind === kind) && s.start >= from && s.end <= to && s.end > 0).sort((a, b) => a.start - b.start);
  let total = 0;
  let end = -Infinity;
  for (const s of list) {
    if (s.start > end) {
      total += s.end - s.start;
      end = s.end;
    } else if (s.end > end) {
      total += s.end - end;
      end = s.end;
    }
  }
  return total;
}

instrument();
const { Git } = await import('../src/git/git.js');
const { loadConfig } = await import('../src/core/config.js');
const { createLogger } = await import('../src/core/log.js');
const { runUpstream } = await import('../src/upstream/run.js');

const COMMITS = Number(process.env.UPSTREAM_BENCH_COMMITS ?? 200);
const PROJECTS = ['alpha', 'beta', 'gamma'];
const ENV = { GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.org', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.org' };

function spec(name: string): string {
  return [`Name: ${name}`, 'Version: 1.0', 'Release: 1', 'Summary: bench', 'License: MIT', 'BuildArch: noarch', 'Source0: %{name}-%{version}.tar.gz', '', '%description', 'bench', '', '%prep', '%setup -q', '', '%build', 'sh -n main.sh', '', '%install', `mkdir -p %{buildroot}/usr/share/${name}`, `install -m 644 main.sh %{buildroot}/usr/share/${name}/`, '', '%files', `/usr/share/${name}`, ''].join('\n');
}

/** A work repo pushing to a bare one; commits dated one minute apart. */
async function repo(dir: string, files: Record<string, string>): Promise<{ work: InstanceType<typeof Git>; remote: string; commit: (n: number) => Promise<void> }> {
  const remote = `${dir}.git`;
  mkdirSync(dir, { recursive: true });
  await new Git(tmpdir()).run(['init', '--quiet', '--bare', remote]);
  const work = new Git(dir, ENV);
  await work.run(['init', '--quiet', '-b', 'master']);
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const commit = async (n: number) => {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text.replace('{n}', String(n)));
    clock += 60_000;
    const date = new Date(clock).toISOString();
    await work.run(['add', '-A']);
    await work.run(['commit', '--quiet', '-m', `change ${n}`], { env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
  };
  await commit(0);
  await work.run(['remote', 'add', 'origin', remote]);
  await work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/master']);
  return { work, remote, commit };
}

const root = mkdtempSync(join(tmpdir(), 'pl-bench-upstream-'));
try {
  const ups = [];
  const projects: Record<string, unknown> = {};
  for (const p of PROJECTS) {
    const up = await repo(join(root, p), { 'main.sh': 'echo {n}\n' });
    const dg = await repo(join(root, `${p}-distgit`), { [`${p}.spec`]: spec(p) });
    ups.push(up);
    projects[p] = { upstream: up.remote, distgit: dg.remote, spec: `${p}.spec` };
  }
  const config = join(root, 'patchline.yaml');
  writeFileSync(config, stringify({ stateDir: 'state', sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }], repos: { dummy: { url: 'dummy.git', branches: ['master'] } }, platforms: [{ name: 'el9', builder: 'local' }], publish: { destination: 'pub' }, upstream: { projects } }));
  const loaded = loadConfig(config);
  const log = createLogger({ quiet: true });
  const timeRun = async (label: string, builds: number) => {
    const from = performance.now();
    const code = await runUpstream(loaded, { progress: false }, log);
    const to = performance.now();
    const total = to - from;
    const tools = covered(from, to);
    const own = total - tools;
    const ms = (k: Kind) => (covered(from, to, k) / 1000).toFixed(1);
    console.log(`${label}: ${builds} builds, exit ${code}, total ${(total / 1000).toFixed(1)} s; inside tools ${(tools / 1000).toFixed(1)} s (rpm tools ${ms('rpm')} s, createrepo_c ${ms('createrepo_c')} s, git ${ms('git')} s, other ${ms('other')} s)`);
    console.log(`  patchline's own time ${(own / 1000).toFixed(1)} s = ${((own / total) * 100).toFixed(1)} % of the total (target <= 10 %), ${(own / builds).toFixed(0)} ms per commit; total per commit ${(total / builds).toFixed(0)} ms`);
  };
  await timeRun('first run (each head)', PROJECTS.length);
  for (const up of ups) {
    for (let n = 1; n < COMMITS; n++) await up.commit(n);
    await up.work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/master']);
  }
  await timeRun(`${COMMITS - 1} new commits per project`, PROJECTS.length * (COMMITS - 1));
} finally {
  rmSync(root, { recursive: true, force: true });
}

if (process.env.UPSTREAM_BENCH_PAGES !== '0') {
  const { benchPages } = await import('./upstream-pages.js');
  await benchPages();
}
