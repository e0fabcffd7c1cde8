import { runSandboxed, type ToolResult } from '../sandbox/run.js';
import { Sandbox } from '../sandbox/sandbox.js';

export type { ToolResult };

/**
 * Run rpmbuild/rpmspec/mock with an argument array (never a shell) in `sandbox` (a spec is code
 * from the mail: even parsing it runs its %(...) macros), else on the host with a scrubbed
 * environment. With `logFile`, the output is also written there as it comes (build.log);
 * `signal` stops the tool when the run is aborted.
 */
export function runRpmTool(cmd: string, args: readonly string[], opts: { sandbox?: Sandbox; logFile?: string; signal?: AbortSignal } = {}): Promise<ToolResult> {
  return runSandboxed(opts.sandbox ?? new Sandbox('none'), cmd, args, opts);
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
