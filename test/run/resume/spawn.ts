/**
 * patchline as an operator runs it: `node dist/src/cli.js <command> --config <file>`, in its own
 * process group so a kill -9 takes every child with it (git, rpmbuild, createrepo_c), as a
 * power cut or an OOM kill of the job would.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../../src/core/paths.js';

/** The patchline under test: this tree's build, or PATCHLINE_CLI (e.g. a build of another commit, to compare). */
export const CLI = process.env.PATCHLINE_CLI || join(PACKAGE_ROOT, 'dist', 'src', 'cli.js');

export interface StderrLine {
  /** Milliseconds since the spawn. */
  t: number;
  text: string;
}

export interface PatchlineRun {
  args: string[];
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** We killed it (the kill came before it exited by itself). */
  killed: boolean;
  stderr: string;
  lines: StderrLine[];
  /** Milliseconds from spawn to exit. */
  durationMs: number;
}

export interface RunControl {
  /** SIGKILL the whole process group this many ms after the spawn. */
  killAfterMs?: number;
  /** Called for every stderr line as it arrives (e.g. to start an outage at a stage). */
  onLine?: (line: StderrLine, kill: () => void) => void;
  env?: Record<string, string>;
}

/** Run `patchline <args> --config <the project's config>` to its end (or our kill). */
export function runPatchline(project: { config: string }, args: string[], control: RunControl = {}): Promise<PatchlineRun> {
  const all = [...args, '--config', project.config];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...all], {
      cwd: PACKAGE_ROOT,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PATCHLINE_DEBUG: '1', ...control.env },
    });
    const lines: StderrLine[] = [];
    let stderr = '';
    let partial = '';
    let exited = false;
    let killed = false;
    const kill = () => {
      if (exited || killed || child.pid === undefined) return;
      killed = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = control.killAfterMs === undefined ? undefined : setTimeout(kill, control.killAfterMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      const t = performance.now() - t0;
      stderr += chunk;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const text of parts) {
        const line = { t, text };
        lines.push(line);
        control.onLine?.(line, kill);
      }
    });
    child.on('error', reject);
    child.on('exit', () => {
      exited = true;
      if (timer) clearTimeout(timer);
    });
    child.on('close', (code, signal) => {
      if (partial) lines.push({ t: performance.now() - t0, text: partial });
      resolve({ args: all, code, signal, killed: killed && signal === 'SIGKILL', stderr, lines, durationMs: performance.now() - t0 });
    });
  });
}

/** What went wrong inside patchline (not what it reported about the world): internal errors and raw fs races. */
export function internalErrors(run: PatchlineRun): string[] {
  return run.lines.map((l) => l.text).filter((l) => /EINTERNAL|\bENOENT\b|\bENOTEMPTY\b|\bEEXIST\b|Unhandled|TypeError|ReferenceError/.test(l));
}

/** Fail with the run's own stderr when it did not end with `code` (a bare "expected 0, received 1" says nothing). */
export function expectExit(run: PatchlineRun, code: number, what = 'patchline'): void {
  if (run.code === code) return;
  throw new Error(`${what} ${run.args.join(' ')}: exit ${run.code ?? run.signal}, expected ${code}; its stderr:\n${run.stderr.split('\n').slice(-25).join('\n')}`);
}

/** The stderr tails of a sequence of runs, for a failure message. */
export function explainRuns(runs: PatchlineRun[], lines = 20): string {
  return runs.map((r, i) => `--- run ${i + 1}: ${r.args.join(' ')}: ${r.killed ? 'killed' : `exit ${r.code ?? r.signal}`}\n${r.stderr.trimEnd().split('\n').slice(-lines).join('\n')}`).join('\n');
}
