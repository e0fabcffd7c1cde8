import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TRANSPORT_VARS, childEnv } from '../core/child-env.js';
import { PatchlineError } from '../core/errors.js';
import type { CheckResult } from './types.js';
import { logTail, readLog, type LoggedRun } from './process.js';
import { TOOL_ENV, runSandboxed } from './sandbox.js';
import type { InstallMode } from './settings.js';

/** Where the packages were installed, for the test commands. */
export interface InstalledRoot {
  root: string;
  /** `full`: dnf made a whole system (the root is `/` for the commands); `payload`: only the packages' files (rpm -i, the host's /usr beneath). */
  kind: 'full' | 'payload';
}

const isRemote = (u: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(u) && !/^file:\/\//i.test(u);
const localPath = (u: string) => (/^file:\/\//i.test(u) ? decodeURIComponent(new URL(u).pathname) : u);

/** Read-only binds of the dirs holding the given files/dirs (each once). */
function roBinds(paths: readonly string[]): Array<{ from: string }> {
  return [...new Set(paths)].map((from) => ({ from }));
}

/**
 * `rpm <args>` on a throwaway root (its rpmdb made first), in the sandbox over the host's /usr:
 * rpm chroots into the root, which needs uid 0 of the sandbox's user namespace, not the host's.
 * `dir` (holding the root) is writable; the dirs of `files` are bound read-only.
 */
export async function rpmOnRoot(root: string, args: readonly string[], opts: { dir: string; files: readonly string[]; logFile: string; timeoutSeconds: number }): Promise<LoggedRun> {
  const view = { kind: 'host' as const, binds: [{ from: opts.dir, writable: true }, ...roBinds(opts.files.map((f) => dirname(f)))] };
  const db = ['--root', root, '--dbpath', '/var/lib/rpm'];
  const init = await runSandboxed({ view, argv: ['rpm', ...db, '--initdb'], env: { ...TOOL_ENV }, as: 'installer' }, { logFile: opts.logFile, timeoutSeconds: 300, header: '$ rpm --initdb' });
  if (init.code !== 0) throw new PatchlineError('ETOOL', `rpm --initdb in the throwaway root failed: ${logTail(opts.logFile)}`, { input: opts.logFile });
  const argv = ['rpm', ...args.slice(0, 1), ...db, ...args.slice(1)];
  return runSandboxed({ view, argv, env: { ...TOOL_ENV }, as: 'installer' }, { logFile: opts.logFile, timeoutSeconds: opts.timeoutSeconds, header: `$ ${argv.join(' ')}` });
}

/** rpm's own problem lines (`error: ...`, file conflicts, missing dependencies), one line. */
function rpmProblems(logFile: string): string {
  const lines = readLog(logFile)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^error: |conflicts|is needed by|scriptlet failed/.test(l));
  return (lines.length > 0 ? lines.slice(0, 3).join('; ') : logTail(logFile)).slice(0, 600);
}

/**
 * rpm -i --root: the packages' payloads unpack into an empty root (digests, cpio, paths) and
 * rpm's transaction checks pass, file conflicts among the new packages included. It says nothing
 * about dependencies (--nodeps: the root has no system to satisfy them) nor scriptlets
 * (--noscripts: no shell in the root to run them): dnf with base repos checks those.
 */
async function rpmInstall(rpms: readonly string[], root: string, dir: string, logFile: string): Promise<CheckResult> {
  const t0 = Date.now();
  const run = await rpmOnRoot(root, ['-i', '--nodeps', '--noscripts', '--notriggers', '--ignorearch', '--ignoreos', '--ignoresize', '--nosignature', '--', ...rpms], { dir, files: rpms, logFile, timeoutSeconds: 1800 });
  const base = { name: 'install', kind: 'install' as const, log: logFile, durationSeconds: (Date.now() - t0) / 1000 };
  if (run.timedOut) throw new PatchlineError('ETOOL', 'rpm -i did not finish in 30 minutes', { input: logFile });
  if (run.code !== 0) return { ...base, state: 'failed', message: `rpm -i --root failed: ${rpmProblems(logFile)}` };
  return { ...base, state: 'passed', message: `rpm -i --root installed ${rpms.length} package${rpms.length === 1 ? '' : 's'} (payload and file conflicts checked; dependencies and scriptlets not: no base repos)` };
}

/** dnf findings that mean the base repos could not be read (heals by itself: retried), not that the packages are bad. */
const UNREACHABLE = /Failed to download metadata|Cannot download repomd|Curl error|Cannot find a valid baseurl|Errors during downloading metadata|Cannot retrieve repository/;
const SCRIPTLET = /Error in \S+ scriptlet|scriptlet failed|error: %\S+\(.*\) scriptlet/;

function dnfProblems(logFile: string): string {
  const lines = readLog(logFile)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(Error|Problem|error:)|nothing provides|conflicts with|scriptlet|cannot install/i.test(l));
  return (lines.length > 0 ? lines.slice(0, 4).join('; ') : logTail(logFile)).slice(0, 600);
}

/**
 * dnf --installroot against the platform's base repos and the published repo: dependencies
 * resolved as a user's dnf would, scriptlets run. Two passes in the sandbox: the download (the
 * network shared when a base repo is remote; no package code runs), then the install from that
 * cache with no network, scriptlets running as uid 0 of a user namespace chrooted in the root.
 */
async function dnfInstall(rpms: readonly string[], opts: { root: string; dir: string; baseRepos: readonly string[]; published?: string; logFile: string }): Promise<CheckResult> {
  const t0 = Date.now();
  const cache = join(opts.dir, 'dnf-cache');
  const conf = join(opts.dir, 'dnf.conf');
  mkdirSync(join(opts.dir, 'repos.d'), { recursive: true });
  // nothing of the host's dnf setup: no repos, no plugins, a missing repo is an error (not skipped)
  writeFileSync(conf, ['[main]', 'gpgcheck=0', 'plugins=0', 'install_weak_deps=0', 'skip_if_unavailable=0', 'keepcache=1', `cachedir=${cache}`, `reposdir=${join(opts.dir, 'repos.d')}`, ''].join('\n'));
  const repos = [...opts.baseRepos.map((u, i) => ({ id: `base${i}`, url: u })), ...(opts.published ? [{ id: 'patchline-published', url: opts.published }] : [])];
  const common = ['-y', '--config', conf, '--installroot', opts.root, '--releasever', '0', '--setopt', `cachedir=${cache}`, '--disablerepo', '*', ...repos.flatMap((r) => ['--repofrompath', `${r.id},${r.url}`, '--enablerepo', r.id])];
  const local = repos.filter((r) => !isRemote(r.url)).map((r) => localPath(r.url));
  const binds = [{ from: opts.dir, writable: true }, ...roBinds([...rpms.map((r) => dirname(r)), ...local])];
  const env = { ...TOOL_ENV };
  const network = repos.some((r) => isRemote(r.url));
  const base = { name: 'install', kind: 'install' as const, log: opts.logFile };
  const download = ['dnf', ...common, '--downloadonly', 'install', '--', ...rpms];
  // the download may need the agent's proxy settings; the install pass has no network and gets none
  const transport = Object.fromEntries(Object.entries(childEnv({}, TRANSPORT_VARS)).filter((kv): kv is [string, string] => TRANSPORT_VARS.test(kv[0]) && kv[1] !== undefined));
  const d = await runSandboxed({ view: { kind: 'host', binds }, argv: download, env: network ? { ...env, ...transport } : env, network, as: 'installer' }, { logFile: opts.logFile, timeoutSeconds: 1800, header: `$ ${download.join(' ')}` });
  const text = readLog(opts.logFile);
  if (d.timedOut || (d.code !== 0 && UNREACHABLE.test(text))) throw new PatchlineError('ETOOL', `dnf could not read the base repos: ${d.timedOut ? 'timed out after 30 minutes' : dnfProblems(opts.logFile)}`, { input: opts.baseRepos.join(' ') });
  if (d.code !== 0) return { ...base, state: 'failed', message: `dnf cannot install the packages: ${dnfProblems(opts.logFile)}`, durationSeconds: (Date.now() - t0) / 1000 };
  const install = ['dnf', ...common, '--cacheonly', 'install', '--', ...rpms];
  const i = await runSandboxed({ view: { kind: 'host', binds }, argv: install, env, as: 'installer' }, { logFile: opts.logFile, timeoutSeconds: 1800, header: `$ ${install.join(' ')}` });
  const done = { ...base, durationSeconds: (Date.now() - t0) / 1000 };
  const after = readLog(opts.logFile).slice(text.length);
  if (i.timedOut) return { ...done, state: 'failed', message: 'dnf install did not finish in 30 minutes (a scriptlet that hangs?)' };
  if (i.code !== 0) return { ...done, state: 'failed', message: `dnf install failed: ${dnfProblems(opts.logFile)}` };
  // dnf goes on after a failing %post: the package is broken all the same
  const scriptlet = after.split('\n').find((l) => SCRIPTLET.test(l));
  if (scriptlet) return { ...done, state: 'failed', message: `a scriptlet failed: ${scriptlet.trim().slice(0, 300)}` };
  return { ...done, state: 'passed', message: `dnf installed the packages with their dependencies from ${opts.baseRepos.length} base repo${opts.baseRepos.length === 1 ? '' : 's'}${opts.published ? ' and the published repo' : ''}, scriptlets run` };
}

/** Install the packages into `<dir>/root` (made fresh) as the settings say. */
export async function installCheck(rpms: readonly string[], opts: { mode: InstallMode; baseRepos: readonly string[]; published?: string; dir: string; logFile: string }): Promise<{ check: CheckResult; installed?: InstalledRoot }> {
  if (opts.mode === 'none') return { check: { name: 'install', kind: 'install', state: 'skipped', message: 'test.install is none', durationSeconds: 0 } };
  const root = join(opts.dir, 'root');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const check = opts.mode === 'dnf' ? await dnfInstall(rpms, { ...opts, root }) : await rpmInstall(rpms, root, opts.dir, opts.logFile);
  if (check.state !== 'passed') return { check };
  // mount points the command sandbox needs over a full root
  for (const d of ['dev', 'proc', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  return { check, installed: { root, kind: opts.mode === 'dnf' ? 'full' : 'payload' } };
}
