import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv } from '../core/child-env.js';
import { PatchlineError } from '../core/errors.js';
import { handOver, takeBack } from './ownership.js';
import { atLeast, bwrapIsolation, bwrapVersion, dropPrivileges, PATH_INSIDE, runsAsRoot, SANDBOX_ID, type Sandbox } from './sandbox.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

const OPT_OUT = 'or set build.sandbox: none to build unsandboxed';

let usable: Promise<void> | undefined;

/** bwrap runs here with every namespace the sandbox asks for, once per process; else one ETOOL line. */
function checkBwrap(): Promise<void> {
  usable ??= new Promise<void>((resolve, reject) => {
    const v = bwrapVersion();
    if (!v) return reject(new PatchlineError('ETOOL', `bwrap is not installed: local builds run in a bubblewrap sandbox (package bubblewrap, scripts/setup.sh installs it), ${OPT_OUT}`, { input: 'bwrap' }));
    if (!atLeast(v, [0, 6])) return reject(new PatchlineError('ETOOL', `bubblewrap ${v.join('.')} is too old for the build sandbox (it needs 0.6 or newer), ${OPT_OUT}`, { input: 'bwrap' }));
    const child = spawn('bwrap', [...bwrapIsolation(), '--clearenv', '--', ...dropPrivileges(), 'true'], { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new PatchlineError('ETOOL', `cannot run bwrap: ${e.message}, ${OPT_OUT}`, { input: 'bwrap', cause: e })));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const said = Buffer.concat(err).toString('utf8').trim().split('\n')[0] || `exit ${code}`;
      const hint = runsAsRoot() ? 'as root it needs CAP_SYS_ADMIN, which a container may withhold, and setpriv of util-linux' : 'it needs unprivileged user namespaces';
      reject(new PatchlineError('ETOOL', `the build sandbox cannot start here: ${said} (${hint}), ${OPT_OUT}`, { input: 'bwrap' }));
    });
  });
  return usable;
}

/** Whether the sandbox's PATH (host dirs it binds read-only) has `cmd`. */
function installedInside(cmd: string): boolean {
  return PATH_INSIDE.split(':').some((dir) => existsSync(join(dir, cmd)));
}

/**
 * Run `cmd args` in `box` with an argument array (never a shell). With `logFile`, stdout and
 * stderr are also written there as they come (build.log); `signal` stops it (SIGTERM to bwrap,
 * whose death kills everything inside). As root, the work dir belongs to the sandbox user while
 * the command runs and is taken back after it.
 */
export async function runSandboxed(box: Sandbox, cmd: string, args: readonly string[], opts: { logFile?: string; signal?: AbortSignal; env?: Record<string, string> } = {}): Promise<ToolResult> {
  const work = box.dirs.work;
  if (box.mode === 'bwrap') {
    await checkBwrap();
    if (!installedInside(cmd)) throw new PatchlineError('ETOOL', `${cmd} is not installed`, { input: cmd });
    if (work && runsAsRoot()) handOver(work, SANDBOX_ID, SANDBOX_ID);
  }
  try {
    return await spawnLogged(box.wrap(cmd, args, opts.env), cmd, opts);
  } finally {
    if (work && box.mode === 'bwrap') takeBack(work, runsAsRoot() ? { uid: process.getuid!(), gid: process.getgid!() } : undefined);
  }
}

function spawnLogged(w: ReturnType<Sandbox['wrap']>, cmd: string, opts: { logFile?: string; signal?: AbortSignal }): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(w.file, w.args, { env: w.env, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
    const log = opts.logFile ? createWriteStream(opts.logFile) : undefined;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      log?.write(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      log?.write(b);
    });
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      if (log) log.end(done);
      else done();
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? `${w.file === 'bwrap' ? 'bwrap' : cmd} is not installed` : `cannot run ${cmd}: ${e.message}`;
      settle(() => reject(new PatchlineError('ETOOL', why, { input: cmd, cause: e })));
    });
    child.on('close', (code, signal) => {
      const result = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      settle(() => resolve(result));
    });
  });
}
