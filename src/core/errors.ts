/**
 * One error type for the whole of patchline (after semantic-release's error table):
 * a stable code, a message a person can act on, and the offending input.
 */

/** Exit codes of every step (DESIGN.md "Jenkins"). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Every error code patchline raises, with the exit code a step ends with when it escapes. */
export const ERROR_CODES = {
  EUSAGE: ExitCode.usage, // bad command line
  ECONFIG: ExitCode.usage, // config file missing, unreadable or invalid
  ESECRET: ExitCode.usage, // a secret named by the config cannot be read
  ERESULT: ExitCode.failed, // a result file is missing or does not match its schema
  ELOCKED: ExitCode.failed, // another run holds the state dir
  EMAIL: ExitCode.failed, // a mail source cannot be read
  EIMAP: ExitCode.failed, // the IMAP server refused or dropped us
  EMESSAGE: ExitCode.failed, // one message cannot be handled (normally quarantined, not thrown)
  EGIT: ExitCode.failed, // a git command failed
  EAPPLY: ExitCode.failed, // a series does not apply
  EPUSH: ExitCode.failed, // push rejected
  ESPEC: ExitCode.failed, // spec file unusable
  EBUILD: ExitCode.failed, // a build failed
  EKOJI: ExitCode.failed, // Koji fault or transport error
  EPUBLISH: ExitCode.failed, // createrepo_c / rsync / disk
  EREPORT: ExitCode.failed, // template or mail failure
  ETOOL: ExitCode.failed, // an external tool is missing or crashed
  EJENKINS: ExitCode.failed, // the Jenkins API refused us
  EUPSTREAM: ExitCode.failed, // upstream continuous packaging: a project cannot be fetched, built or published
  ETRACK: ExitCode.failed, // upstream tracking: an item, a scan or its review
  EAUTH: ExitCode.failed, // the tracking API refused the credentials
  EINTERNAL: ExitCode.failed, // a bug: should never be seen
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export class PatchlineError extends Error {
  readonly code: ErrorCode;
  /** The offending input: a message-id, a file, a config path, a task id... */
  readonly input?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { input?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PatchlineError';
    this.code = code;
    this.input = opts.input;
    this.details = opts.details;
  }

  get exitCode(): ExitCode {
    return ERROR_CODES[this.code];
  }

  /** The one line a step prints: `patchline: ECONFIG repos.qemu.url: required (in patchline.yaml)`. */
  toLine(): string {
    const where = this.input === undefined ? '' : ` [${this.input}]`;
    return `patchline: ${this.code} ${this.message}${where}`.replace(/[\r\n]+/g, ' ');
  }

  toJSON(): { code: ErrorCode; message: string; input?: string } {
    return { code: this.code, message: this.message, ...(this.input === undefined ? {} : { input: this.input }) };
  }
}

/** Wrap anything thrown into a PatchlineError, keeping PatchlineErrors as they are. */
export function asPatchlineError(err: unknown, code: ErrorCode = 'EINTERNAL'): PatchlineError {
  if (err instanceof PatchlineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PatchlineError(code, message, { cause: err });
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
