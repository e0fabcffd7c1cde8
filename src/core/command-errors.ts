import { ExitCode, asPatchlineError } from './errors.js';
import { redact } from './secrets.js';

/**
 * What every command does with an error that escapes it: one line on stderr (redacted), the stack
 * too for a bug (EINTERNAL) under PATCHLINE_DEBUG, and the exit code of its error code.
 */
export function reportError(err: unknown): ExitCode {
  const e = asPatchlineError(err);
  process.stderr.write(redact(e.toLine()) + '\n');
  if (e.code === 'EINTERNAL' && process.env.PATCHLINE_DEBUG) process.stderr.write(String((err as Error).stack) + '\n');
  return e.exitCode;
}

/** Run a command's work; an error becomes its one line and exit code. */
export async function guarded(work: () => Promise<ExitCode | void>): Promise<ExitCode> {
  try {
    return (await work()) ?? ExitCode.ok;
  } catch (err) {
    return reportError(err);
  }
}

/** A commander action: the guarded work, its exit code handed to onExit. */
export function commandAction<O>(onExit: (code: ExitCode) => void, run: (opts: O) => Promise<ExitCode | void>): (opts: O) => Promise<void> {
  return async (opts: O) => onExit(await guarded(() => run(opts)));
}
