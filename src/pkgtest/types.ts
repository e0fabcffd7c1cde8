/** test.json (resources/schemas/test.schema.json): per series x platform, the package checks and the repo's tests. */

/**
 * passed / failed: what the check found; skipped: not asked for or nothing to check (message says
 * which); error: the check could not run (a tool missing, a base repo unreachable): it says nothing
 * about the packages, and makes the record `error` (tried again next run) unless another check failed.
 * JUnit has the same four (a testcase with <failure>, <skipped/> or <error>).
 */
export type CheckState = 'passed' | 'failed' | 'skipped' | 'error';

export interface CheckResult {
  /** Stable per repo/branch/platform (a JUnit test name): `rpmlint`, `nvr-order`, `install`, `conflicts`, `command:<name>`. */
  name: string;
  kind: 'rpmlint' | 'nvr-order' | 'install' | 'conflicts' | 'command';
  state: CheckState;
  /** One line: why it failed or was skipped, or what it found (e.g. both NVRs). */
  message?: string;
  /** Warnings that do not fail the check (rpmlint warnings). */
  warnings?: string[];
  /** The check's output, absolute path (it outlives the run dir's relative names in the ledger). */
  log?: string;
  durationSeconds: number;
}

/**
 * passed: every check passed; failed: a check failed (waits for new input, like a failing %build);
 * error: the checks could not run (a tool missing, the base repos unreachable): the next run tries again.
 */
export type TestState = 'passed' | 'failed' | 'error';

export interface TestRecord {
  seriesId: string;
  repo: string;
  branch?: string;
  platform: string;
  nvr?: string;
  state: TestState;
  checks: CheckResult[];
  durationSeconds: number;
  message?: string;
  error?: { code: string; message: string; input?: string };
}

export interface TestResult {
  runId: string;
  startedAt: string;
  finishedAt: string;
  tests: TestRecord[];
}
