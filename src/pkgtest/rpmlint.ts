import { existsSync } from 'node:fs';
import { PatchlineError } from '../core/errors.js';
import type { CheckResult } from './types.js';
import { findOnPath, logTail, readLog, runLogged, toolEnv } from './process.js';

export interface Finding {
  package: string;
  level: 'E' | 'W';
  /** The rpmlint class, e.g. non-executable-script. */
  id: string;
  /** The whole line as rpmlint printed it. */
  line: string;
}

/** rpmlint 1.x and 2.x finding lines: `hello.noarch: E: class details`, `hello.spec:12: W: class`. */
const FINDING = /^(\S+?)(?::\d+)?: ([EW]): (\S+)/;

export function parseRpmlint(text: string): Finding[] {
  const out: Finding[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = FINDING.exec(line);
    if (m) out.push({ package: m[1]!, level: m[2] as 'E' | 'W', id: m[3]!, line });
  }
  return out;
}

/** rpmlint's exit codes: 0 clean, 64 errors found, 66 badness over the threshold; anything else: it did not run through. */
const FOUND_ERRORS = new Set([64, 66]);

/**
 * rpmlint over the built RPMs: an error fails the check (naming the first ones), warnings are
 * listed; patchline's config and the repo's rpmlintrc apply. rpmlint missing is ETOOL (the
 * record is `error` and tried again next run) unless `test.rpmlint: false` turned the check off.
 */
export async function rpmlintCheck(rpms: readonly string[], opts: { enabled: boolean; config: string; rpmlintrc?: string; logFile: string; home: string }): Promise<CheckResult> {
  const base = { name: 'rpmlint', kind: 'rpmlint' as const };
  if (!opts.enabled) return { ...base, state: 'skipped', message: 'test.rpmlint is false', durationSeconds: 0 };
  const rpmlint = findOnPath('rpmlint');
  if (!rpmlint) throw new PatchlineError('ETOOL', 'rpmlint is not installed: install it (Debian and Fedora: rpmlint), or set test.rpmlint: false', { input: 'rpmlint' });
  if (opts.rpmlintrc && !existsSync(opts.rpmlintrc)) throw new PatchlineError('ECONFIG', `the rpmlintrc ${opts.rpmlintrc} does not exist`, { input: opts.rpmlintrc });
  // the rpmlintrc serves every platform and package of the repo: a filter unused here is no finding
  const args = ['-c', opts.config, ...(opts.rpmlintrc ? ['--rpmlintrc', opts.rpmlintrc, '--ignore-unused-rpmlintrc'] : []), ...rpms];
  const run = await runLogged(rpmlint, args, { logFile: opts.logFile, env: toolEnv(opts.home), cwd: opts.home, timeoutSeconds: 600, header: `$ rpmlint ${args.join(' ')}` });
  const findings = parseRpmlint(readLog(opts.logFile));
  const errors = findings.filter((f) => f.level === 'E');
  const warnings = findings.filter((f) => f.level === 'W').map((f) => f.line);
  const result = { ...base, durationSeconds: run.seconds, log: opts.logFile, ...(warnings.length > 0 ? { warnings } : {}) };
  if (errors.length === 0 && run.code !== null && FOUND_ERRORS.has(run.code)) return { ...result, state: 'failed', message: `rpmlint failed the packages (exit code ${run.code}): ${logTail(opts.logFile, 1)}` };
  if (errors.length > 0) {
    const shown = errors.slice(0, 3).map((f) => f.line);
    const more = errors.length > 3 ? ` (and ${errors.length - 3} more)` : '';
    return { ...result, state: 'failed', message: `${errors.length} rpmlint error${errors.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}` };
  }
  if (run.code !== 0) throw new PatchlineError('ETOOL', `rpmlint did not finish (${run.timedOut ? 'timed out' : run.code === null ? `killed by ${run.signal}` : `exit code ${run.code}`}): ${logTail(opts.logFile)}`, { input: opts.logFile });
  return { ...result, state: 'passed', message: warnings.length > 0 ? `no errors, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : 'no errors, no warnings' };
}
