import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { childEnv } from '../core/child-env.js';
import { PatchlineError } from '../core/errors.js';

/** `build.sandbox`: bubblewrap (the default), or none (builds run as patchline, on the host). */
export type SandboxMode = 'bwrap' | 'none';

/** The writable dir as the sandboxed command sees it: its HOME and cwd. */
export const SANDBOX_WORK = '/build';
// Top-level mount points: a parent dir bwrap makes for a deeper one is root's 0700 in root mode.
const INPUT = '/input';

/**
 * The host uid and gid a sandboxed command runs as when patchline runs as root: the kernel's
 * overflow id ("nobody" on Debian and Fedora), which owns nothing a build needs.
 */
export const SANDBOX_ID = 65534;

export const PATH_INSIDE = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface SandboxDirs {
  /** The one dir the command may write (HOME and cwd): seen as /build. */
  work?: string;
  /** Dirs it may read, each seen as /input<n>; nothing else of the host but the system dirs. */
  inputs?: string[];
}

/** A command line ready to spawn. */
export interface Wrapped {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** `path` relative to `dir` when it is `dir` ('') or below it, else undefined. */
export function inside(dir: string, path: string): string | undefined {
  const rel = relative(dir, path);
  return rel === '..' || rel.startsWith('../') || isAbsolute(rel) ? undefined : rel;
}

let systemBinds: string[] | undefined;

/** /usr and /etc read-only, and the top-level links into /usr (or dirs, where /usr is not merged). */
function systemMounts(): string[] {
  if (systemBinds) return systemBinds;
  const out = ['--ro-bind', '/usr', '/usr', '--ro-bind', '/etc', '/etc'];
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    if (!existsSync(top)) continue;
    if (lstatSync(top).isSymbolicLink()) out.push('--symlink', readlinkSync(top), top);
    else out.push('--ro-bind', top, top);
  }
  systemBinds = out;
  return out;
}

let version: number[] | null | undefined;

/** bubblewrap's version as [major, minor, patch], or null when it is not installed. */
export function bwrapVersion(): number[] | null {
  if (version !== undefined) return version;
  const r = spawnSync('bwrap', ['--version'], { encoding: 'utf8', env: childEnv() });
  const m = r.status === 0 ? /(\d+)\.(\d+)\.(\d+)/.exec(r.stdout) : null;
  version = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
  return version;
}

/** Whether patchline runs as root, so the sandbox must drop to SANDBOX_ID itself. */
export function runsAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Where one command runs: with `bwrap`, in new mount, pid, ipc, uts and network namespaces, with
 * only the system dirs (read-only), its inputs (read-only), a fresh /tmp and /var/tmp and its
 * work dir (the only writable one), a scrubbed environment (PATH, HOME=/build, LANG), as an
 * unprivileged user; killed with patchline. With `none`, on the host with childEnv() only.
 */
export class Sandbox {
  readonly dirs: SandboxDirs;

  constructor(
    readonly mode: SandboxMode,
    dirs: SandboxDirs = {},
  ) {
    // an input inside the work dir or inside an input already kept is reached through that one
    const inputs: string[] = [];
    for (const d of dirs.inputs ?? []) if (![...(dirs.work ? [dirs.work] : []), ...inputs].some((o) => inside(o, d) !== undefined)) inputs.push(d);
    this.dirs = { ...dirs, inputs };
  }

  private mounts(): Array<[string, string]> {
    return [...(this.dirs.work ? [[this.dirs.work, SANDBOX_WORK] as [string, string]] : []), ...(this.dirs.inputs ?? []).map((d, i) => [d, `${INPUT}${i}`] as [string, string])];
  }

  /** A host path under the work dir or an input, as the command sees it. */
  path(host: string): string {
    if (this.mode === 'none') return host;
    for (const [dir, seen] of this.mounts()) {
      const rel = inside(dir, host);
      if (rel !== undefined) return rel ? join(seen, rel) : seen;
    }
    throw new PatchlineError('EINTERNAL', `${host} is neither the sandbox's work dir nor one of its inputs`, { input: host });
  }

  /**
   * A file the command said it wrote (e.g. rpmbuild's "Wrote: <path>"), on the host: only a
   * regular file inside the work dir reached without a symbolic link, else undefined (a build
   * printing "Wrote: /etc/shadow" names nothing to publish).
   */
  outputFile(said: string): string | undefined {
    const work = this.dirs.work;
    if (!work) return undefined;
    const rel = this.mode === 'none' ? inside(work, said) : inside(SANDBOX_WORK, said);
    if (!rel) return undefined;
    const host = join(work, rel);
    try {
      return lstatSync(host).isFile() && realpathSync(host) === join(realpathSync(work), rel) ? host : undefined;
    } catch {
      return undefined;
    }
  }

  /** The command line that runs `cmd args` in this sandbox, with `env` added to the minimal one. */
  wrap(cmd: string, args: readonly string[], env: Record<string, string> = {}): Wrapped {
    if (this.mode === 'none') return { file: cmd, args: [...args], env: childEnv({ LC_ALL: 'C', LANGUAGE: 'C', ...env }) };
    const home = this.dirs.work ? SANDBOX_WORK : '/tmp';
    const vars = { PATH: PATH_INSIDE, HOME: home, LANG: 'C.UTF-8', ...env };
    const mounts = this.mounts().flatMap(([dir, seen]) => [seen === SANDBOX_WORK ? '--bind' : '--ro-bind', dir, seen]);
    const setenv = Object.entries(vars).flatMap(([k, v]) => ['--setenv', k, v]);
    // bwrap's own environment (PATH to find it) never reaches inside: --clearenv
    return { file: 'bwrap', args: [...bwrapIsolation(), '--clearenv', ...setenv, ...mounts, '--chdir', home, '--', ...dropPrivileges(), cmd, ...args], env: childEnv() };
  }
}

/** Whether version `v` is `min` or newer. */
export function atLeast(v: number[] | null, min: number[]): boolean {
  if (!v) return false;
  for (let i = 0; i < min.length; i++) if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]!;
  return true;
}

/** Everything but the command's own dirs and environment: namespaces, system dirs, /dev, /proc, /tmp. */
export function bwrapIsolation(): string[] {
  return [
    // no user namespaces inside (less kernel to attack), where bwrap can say so (0.8)
    ...(runsAsRoot() ? [] : ['--unshare-user', ...(atLeast(bwrapVersion(), [0, 8]) ? ['--disable-userns'] : [])]),
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-net',
    '--unshare-cgroup-try',
    // a name /etc/hosts resolves: rpm puts it in BuildHost, and warns about one it cannot
    '--hostname',
    'localhost',
    '--die-with-parent',
    '--new-session',
    ...systemMounts(),
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--perms',
    '1777',
    '--tmpfs',
    '/tmp',
    '--perms',
    '1777',
    '--tmpfs',
    '/var/tmp',
  ];
}

/**
 * As root, bwrap needs no user namespace but its `--uid` would map the sandbox's user to root
 * outside (it reads /etc/shadow): the command is started by setpriv as SANDBOX_ID instead, with
 * no capability left and no supplementary group.
 */
export function dropPrivileges(): string[] {
  if (!runsAsRoot()) return [];
  const id = String(SANDBOX_ID);
  return ['setpriv', '--reuid', id, '--regid', id, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--'];
}
