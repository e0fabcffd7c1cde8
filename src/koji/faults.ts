import { PatchlineError } from '../core/errors.js';

/** Koji's fault classes by code (koji/__init__.py, 1.35). */
export const KOJI_FAULTS: Record<number, string> = {
  1000: 'GenericError',
  1001: 'LockError',
  1002: 'AuthError',
  1003: 'TagError',
  1004: 'ActionNotAllowed',
  1005: 'BuildError',
  1006: 'AuthLockError',
  1007: 'AuthExpired',
  1008: 'SequenceError',
  1009: 'RetryError',
  1010: 'PreBuildError',
  1011: 'PostBuildError',
  1012: 'BuildrootError',
  1013: 'FunctionDeprecated',
  1014: 'ServerOffline',
  1015: 'LiveCDError',
  1016: 'PluginError',
  1017: 'CallbackError',
  1018: 'ApplianceError',
  1019: 'ParameterError',
  1020: 'ImportError',
  1021: 'ConfigurationError',
  1022: 'LiveMediaError',
  1023: 'GSSAPIAuthError',
  1024: 'NameValidationError',
};

export const AUTH_EXPIRED = 1007;

export function faultClass(code: number): string {
  return KOJI_FAULTS[code] ?? 'Fault';
}

/** A Koji fault as a PatchlineError carrying the fault code and class. */
export function kojiFaultError(method: string, faultCode: number, faultString: string): PatchlineError {
  const cls = faultClass(faultCode);
  return new PatchlineError('EKOJI', `Koji ${method}: ${cls} (fault ${faultCode}): ${faultString}`, {
    input: method,
    details: { faultCode, faultClass: cls, faultString },
  });
}

export function faultCodeOf(err: unknown): number | undefined {
  const code = err instanceof PatchlineError ? err.details?.faultCode : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** What to do about a task fault whose text alone does not say it (matched on Koji's own wording). */
const TASK_FAULT_HINTS: Array<{ code?: number; match: RegExp; keep?: RegExp; hint: (user: string) => string }> = [
  {
    // koji's default policy: `has_perm admin :: allow`, `all :: deny Only admin can do this via default policy`
    code: 1004,
    match: /policy violation \(build_from_srpm\)/,
    hint: (user) =>
      `Koji's build_from_srpm policy refuses non-scratch builds from an uploaded SRPM for ${user}: ask the Koji admins to allow build_from_srpm for ${user}, or build from git (build.submit: scm) or as scratch builds (build.scratch)`,
  },
  {
    code: 1000,
    match: /^Build already exists/,
    keep: /^Build already exists \([^)]*\)/,
    hint: () => 'Koji has a build of this NVR from another source: a new build needs another Version or Release in the spec',
  },
];

/**
 * One line for a failed Koji task, from the error its getTaskResult gave:
 * `fedora-40: Koji task 38 failed: BuildError (1005): error building package ...`, with what to
 * do for the faults whose text alone does not say it (`user`: who the profile logs in as).
 */
export function taskFailureMessage(platform: string, taskId: number, err: unknown, user = 'this user'): string {
  const head = `${platform}: Koji task ${taskId} failed`;
  const code = faultCodeOf(err);
  if (code === undefined || !(err instanceof PatchlineError)) return `${head}; its result could not be read: ${err instanceof Error ? err.message : String(err)}`;
  let text = String(err.details?.faultString ?? '').split('\n')[0]!.trim();
  const hint = TASK_FAULT_HINTS.find((h) => (h.code === undefined || h.code === code) && h.match.test(text));
  if (hint?.keep) text = hint.keep.exec(text)?.[0] ?? text;
  if (text.length > 400) text = `${text.slice(0, 400)}...`;
  return `${head}: ${faultClass(code)} (${code}): ${text}${hint ? `; ${hint.hint(user)}` : ''}`;
}
