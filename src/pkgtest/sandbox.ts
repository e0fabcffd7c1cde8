import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { childEnv } from '../core/child-env.js';
import { PatchlineError } from '../core/errors.js';
import { findOnPath, runLogged, type LoggedRun } from './process.js';

/**
 * The sandbox the test step runs package code in (dnf's scriptlets, the repos' test commands),
 * with bubblewrap: new user, pid, network, ipc and uts namespaces, an empty filesystem holding
 * only what is bound below, no variable but those given, killed with everything it started when
 * its parent dies or the timeout strikes.
 *
 * This is the one place to swap for the build sandbox (src/sandbox/, issue 14 item 1) once its
 * API exists: everything else calls {@link runSandboxed}.
 */
export interface SandboxSpec {
  /**
   * The filesystem the command sees:
   * - `root`: an installed root (dnf --installroot) is `/`, read-only, with /dev, /proc and a fresh /tmp;
   * - `host`: the host's /usr (and the few /etc files programs need) read-only, plus `binds`.
   */
  view: { kind: 'root'; root: string } | { kind: 'host'; binds: Array<{ from: string; to?: string; writable?: boolean }> };
  argv: string[];
  /** The whole environment of the command. */
  env: Record<string, string>;
  cwd?: string;
  /** Share the host's network (dnf downloading from remote base repos; no package code runs then). */
  network?: boolean;
  /**
   * `installer` (rpm, dnf): uid 0 of the user namespace with only the capabilities an install
   * needs (chroot into the root, chown, set file modes and capabilities); `user` (test commands,
   * the default): uid 65534 with none.
   */
  as?: 'installer' | 'user';
}

/** What rpm and dnf need to install into a root; CAP_SYS_ADMIN (mount, remount) is never among them. */
const INSTALLER_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SYS_CHROOT', 'CAP_SETFCAP'];

/** The environment of the trusted tools (rpm, dnf) run in the sandbox. */
export const TOOL_ENV: Readonly<Record<string, string>> = { PATH: '/usr/bin:/usr/sbin:/bin', LANG: 'C.UTF-8', HOME: '/tmp' };

/** Host files programs need under /etc (the dynamic linker's cache, alternatives symlinks, names of users): no secret among them. */
const HOST_ETC = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives', '/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/etc/localtime', '/etc/os-release', '/etc/rpm'];
/** What a download needs in addition: name resolution and the CA certificates. */
const NETWORK_ETC = ['/etc/resolv.conf', '/etc/hosts', '/etc/ssl', '/etc/pki', '/etc/ca-certificates', '/etc/crypto-policies'];
/** Top-level dirs that are symlinks into /usr on a merged-/usr host (bound as they are otherwise). */
const TOP_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

function hostView(binds: Array<{ from: string; to?: string; writable?: boolean }>, network: boolean): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of TOP_DIRS) {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (st.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  for (const f of [...HOST_ETC, ...(network ? NETWORK_ETC : [])]) args.push('--ro-bind-try', f, f);
  args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--dir', '/var/tmp');
  for (const b of binds) args.push(b.writable ? '--bind' : '--ro-bind', b.from, b.to ?? b.from);
  return args;
}

/** bwrap's arguments for a spec (exported for the tests and for a person reading a log). */
export function sandboxArgs(spec: SandboxSpec): string[] {
  // uid 0 of a user namespace keeps every capability in it, remount of a read-only bind included
  // (and when patchline runs as root that uid is the host's root): the capabilities are dropped
  const who = spec.as === 'installer' ? ['--uid', '0', '--gid', '0', '--cap-drop', 'ALL', ...INSTALLER_CAPS.flatMap((c) => ['--cap-add', c])] : ['--uid', '65534', '--gid', '65534', '--cap-drop', 'ALL'];
  const args = ['--unshare-all', ...(spec.network ? ['--share-net'] : []), ...who, '--die-with-parent', '--new-session', '--clearenv'];
  if (spec.view.kind === 'root') args.push('--ro-bind', spec.view.root, '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  else args.push(...hostView(spec.view.binds, spec.network === true));
  for (const [k, v] of Object.entries(spec.env)) args.push('--setenv', k, v);
  args.push('--chdir', spec.cwd ?? '/tmp', '--', ...spec.argv);
  return args;
}

/**
 * Run a command in the sandbox, output appended to the log (see SandboxSpec.as for the user it
 * runs as). bwrap missing is ETOOL; a command missing inside is the command's failure (exit 1).
 */
export async function runSandboxed(spec: SandboxSpec, opts: { logFile: string; timeoutSeconds?: number; header?: string }): Promise<LoggedRun> {
  const bwrap = findOnPath('bwrap');
  if (!bwrap) throw new PatchlineError('ETOOL', 'bwrap is not installed (the test step runs package code in a bubblewrap sandbox): install bubblewrap', { input: 'bwrap' });
  if (spec.view.kind === 'root' && !existsSync(spec.view.root)) throw new PatchlineError('EINTERNAL', `the root ${spec.view.root} does not exist`, { input: spec.view.root });
  return runLogged(bwrap, sandboxArgs(spec), { logFile: opts.logFile, env: childEnv(), timeoutSeconds: opts.timeoutSeconds, header: opts.header });
}
