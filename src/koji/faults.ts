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
