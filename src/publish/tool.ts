import { execFile } from 'node:child_process';
import { childEnv } from '../core/child-env.js';
import { PatchlineError, type ErrorCode } from '../core/errors.js';

export interface ToolOutput {
  stdout: string;
  stderr: string;
}

/** The last lines of a tool's stderr (or stdout), the part a person needs to see. */
function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/**
 * Run an external tool with an argument array (never a shell). A non-zero exit becomes a
 * PatchlineError carrying the tool's own message; a missing tool is ETOOL. The tool's environment
 * is scrubbed (childEnv), with the variables `passEnv` names on top (e.g. ssh's for rsync).
 */
export function runTool(cmd: string, args: string[], opts: { code: ErrorCode; cwd?: string; input?: string; passEnv?: RegExp } = { code: 'EPUBLISH' }): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024, env: childEnv({ LC_ALL: 'C' }, opts.passEnv) }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const errno = (err as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT') return reject(new PatchlineError('ETOOL', `${cmd} is not installed (not found on PATH)`, { input: cmd }));
      const status = typeof errno === 'number' ? `exit code ${errno}` : err.signal ? `killed by ${err.signal}` : err.message;
      const said = tail(stderr) || tail(stdout);
      reject(new PatchlineError(opts.code, `${cmd} failed (${status})${said ? `: ${said}` : ''}`, { input: opts.input ?? cmd, details: { exitCode: errno, stderr } }));
    });
  });
}
