import { execFile, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { childEnv } from '../core/child-env.js';
import { PatchlineError } from '../core/errors.js';

/** How a child process ended; its output is in the log file. */
export interface LoggedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Killed at the timeout. */
  timedOut: boolean;
  seconds: number;
}

/** The executable `cmd` names on the host's PATH, or undefined (checked before a run: a missing tool is an error, not a failed check). */
export function findOnPath(cmd: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return undefined;
}

/** The only variables a tool run by the test step sees: no secret of patchline's reaches it. */
export function toolEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return childEnv({ HOME: home, TMPDIR: home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...extra });
}

/**
 * Run a command with an argument array, stdout and stderr appended to `logFile` as they come
 * (a command that prints without end fills a file, not memory). The child leads its own process
 * group; at the timeout the whole group gets SIGKILL. A missing executable is ETOOL.
 */
export function runLogged(cmd: string, args: readonly string[], opts: { logFile: string; env: NodeJS.ProcessEnv; cwd?: string; timeoutSeconds?: number; header?: string }): Promise<LoggedRun> {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  if (opts.header) writeSync(fd, opts.header.endsWith('\n') ? opts.header : opts.header + '\n');
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd], detached: true });
    const done = (): boolean => {
      if (settled) return false;
      settled = true;
      if (timer) clearTimeout(timer);
      closeSync(fd);
      return true;
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (!done()) return;
      reject(new PatchlineError('ETOOL', e.code === 'ENOENT' ? `${cmd} is not installed (not found on PATH)` : `cannot run ${cmd}: ${e.message}`, { input: cmd, cause: e }));
    });
    child.on('spawn', () => {
      if (opts.timeoutSeconds === undefined) return;
      timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, opts.timeoutSeconds * 1000);
    });
    child.on('close', (code, signal) => {
      if (!done()) return;
      resolve({ code, signal, timedOut, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

/** A log's text (at most its last `max` bytes: enough to parse a tool's findings, bounded for a runaway one). */
export function readLog(file: string, max = 16 * 1024 * 1024): string {
  const buf = readFileSync(file);
  return buf.subarray(Math.max(0, buf.length - max)).toString('utf8');
}

/** The last non-empty lines of a log, one line, for a message. */
export function logTail(file: string, lines = 3): string {
  let text: string;
  try {
    text = readLog(file, 64 * 1024);
  } catch {
    return '';
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('$ ')) // the command line patchline wrote first
    .slice(-lines)
    .join(' / ')
    .slice(0, 500);
}

/**
 * A short query of a trusted tool (rpm -qp, rpm --eval), its stdout; scrubbed environment, C
 * locale. A missing tool or a non-zero exit is ETOOL with the tool's last words.
 */
export function capture(cmd: string, args: readonly string[], input = cmd): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: childEnv({ LC_ALL: 'C' }), maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const errno = (err as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT') return reject(new PatchlineError('ETOOL', `${cmd} is not installed (not found on PATH)`, { input: cmd }));
      const said = (stderr || stdout).trim().split('\n').slice(-3).join(' / ');
      reject(new PatchlineError('ETOOL', `${cmd} failed (${typeof errno === 'number' ? `exit code ${errno}` : err.message})${said ? `: ${said}` : ''}`, { input }));
    });
  });
}
