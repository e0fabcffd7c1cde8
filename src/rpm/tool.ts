import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { PatchlineError } from '../core/errors.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run rpmbuild/rpmspec/mock with an argument array (never a shell), C locale so messages parse.
 * With `logFile`, stdout and stderr are also written there as they come (build.log); `signal`
 * stops the tool (SIGTERM) when the run is aborted.
 */
export function runRpmTool(cmd: string, args: readonly string[], opts: { cwd?: string; logFile?: string; signal?: AbortSignal } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, LC_ALL: 'C', LANGUAGE: 'C' }, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
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
      const why = e.code === 'ENOENT' ? `${cmd} is not installed` : `cannot run ${cmd}: ${e.message}`;
      settle(() => reject(new PatchlineError('ETOOL', why, { input: cmd, cause: e })));
    });
    child.on('close', (code, signal) => {
      const result = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      settle(() => resolve(result));
    });
  });
}

/** rpm's own error lines ("error: ..."), joined; the last output lines when there are none. */
export function rpmErrorMessage(result: ToolResult): string {
  const lines = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.trimEnd());
  const errors = lines.filter((l) => /^error: /.test(l));
  const deps = lines.findIndex((l) => l.startsWith('error: Failed build dependencies:'));
  if (deps >= 0) {
    const needed = lines.slice(deps + 1).filter((l) => /^\s+\S.* is needed by /.test(l)).map((l) => l.trim());
    return ['Failed build dependencies:', ...needed].join(' ');
  }
  return (errors.length ? errors : lines.filter(Boolean).slice(-3)).join('; ').slice(0, 2000);
}
