import { join } from 'node:path';
import type { CheckResult } from './types.js';
import type { InstalledRoot } from './install.js';
import { logTail } from './process.js';
import { runSandboxed, type SandboxSpec } from './sandbox.js';
import type { TestCommand } from './settings.js';

/** Where a payload-only root (rpm -i) appears in the command's sandbox. */
export const ROOT_MOUNT = '/patchline/root';

/** A file name for a command's log. */
export function commandLogName(name: string): string {
  return `command-${name.replace(/[^A-Za-z0-9._-]/g, '_')}.log`;
}

/**
 * The sandbox a test command runs in, as uid 65534 with no capability: over a full root (dnf)
 * the root is `/`, read-only, as on the platform; over a payload-only root (rpm -i) the host's /usr is beneath, the packages' files at
 * ROOT_MOUNT, their bin dirs first on PATH (a file the package reads by its absolute path is not
 * there: give such tests base repos so dnf makes a full root).
 */
export function commandSandbox(installed: InstalledRoot, argv: string[]): SandboxSpec {
  const env = { HOME: '/tmp', TMPDIR: '/tmp', LANG: 'C.UTF-8', PATCHLINE_TEST_ROOT: installed.kind === 'full' ? '/' : ROOT_MOUNT };
  if (installed.kind === 'full') return { view: { kind: 'root', root: installed.root }, argv, env: { ...env, PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' } };
  const r = ROOT_MOUNT;
  return {
    view: { kind: 'host', binds: [{ from: installed.root, to: r }] },
    argv,
    env: { ...env, PATH: `${r}/usr/bin:${r}/usr/sbin:${r}/bin:${r}/sbin:/usr/bin:/usr/sbin:/bin:/sbin`, LD_LIBRARY_PATH: `${r}/usr/lib64:${r}/usr/lib:${r}/lib64:${r}/lib` },
  };
}

/** Run one of the repo's test commands over the installed packages: exit 0 passes; a non-zero exit or the timeout (everything it started is killed) fails. */
export async function commandCheck(cmd: TestCommand, installed: InstalledRoot | undefined, opts: { dir: string; why?: string }): Promise<CheckResult> {
  const base = { name: `command:${cmd.name}`, kind: 'command' as const };
  if (!installed) return { ...base, state: 'skipped', message: opts.why ?? 'the packages are not installed', durationSeconds: 0 };
  const logFile = join(opts.dir, commandLogName(cmd.name));
  const run = await runSandboxed(commandSandbox(installed, cmd.argv), { logFile, timeoutSeconds: cmd.timeoutSeconds, header: `$ ${cmd.argv.join(' ')}` });
  const result = { ...base, log: logFile, durationSeconds: run.seconds };
  if (run.timedOut) return { ...result, state: 'failed', message: `timed out after ${cmd.timeoutSeconds} s: killed with everything it started` };
  if (run.code !== 0) return { ...result, state: 'failed', message: `${run.code === null ? `killed by ${run.signal}` : `exit code ${run.code}`}: ${logTail(logFile)}` };
  return { ...result, state: 'passed', message: `exit 0 in ${run.seconds.toFixed(1)} s` };
}
