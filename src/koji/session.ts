import { readFileSync } from 'node:fs';
import pRetry from 'p-retry';
import { PatchlineError } from '../core/errors.js';
import { AUTH_EXPIRED, faultCodeOf, kojiFaultError } from './faults.js';
import type { KojiProfile } from './profile.js';
import { callXmlRpc, isTransient, neverDelivered, type Endpoint } from './transport.js';
import { asStruct, kwargs, toInt } from './values.js';

export interface SessionOptions {
  profile: KojiProfile;
  /** Password for authtype password (read through readSecret by the caller). */
  password?: string;
  timeoutMs?: number;
  /** Retries of a transient failure (connection refused/reset, 5xx, timeout). */
  retries?: number;
  /** First backoff delay; doubles each retry, up to {@link MAX_RETRY_DELAY_MS}. */
  retryDelayMs?: number;
  /** No retry starts later than this after the first attempt (default {@link RETRY_BUDGET_MS}). */
  retryBudgetMs?: number;
  log?: (line: string) => void;
}

export interface MultiCallEntry {
  methodName: string;
  params: unknown[];
}
export type MultiCallResult = { ok: true; value: unknown } | { ok: false; error: PatchlineError };

/**
 * Transient failures are retried briefly: a hub that stays unreachable this long fails the step
 * now (the next run retries), rather than holding it for the 31 s the plain doubling took.
 */
const RETRY_BUDGET_MS = 5_000;
const MAX_RETRY_DELAY_MS = 2_000;

/** Methods that must not be sent twice unless the hub cannot have seen the first attempt. */
const NOT_IDEMPOTENT = new Set(['build', 'uploadFile']);

function retryable(method: string, err: unknown): boolean {
  return isTransient(err) && (!NOT_IDEMPOTENT.has(method) || neverDelivered(err));
}

function readTls(profile: KojiProfile): Endpoint['tls'] {
  const read = (path: string | undefined, what: string) => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new PatchlineError('ECONFIG', `Koji profile [${profile.name}]: cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { input: path });
    }
  };
  const cert = profile.authtype === 'ssl' ? read(profile.cert, 'cert') : undefined;
  return { cert, key: cert, ca: read(profile.serverca, 'serverca') };
}

/**
 * A logged-in conversation with one Koji hub, carried like koji's ClientSession does: the
 * Koji-Session-Id/-Key headers and a strictly increasing Koji-Session-Callnum, one call at a
 * time (calls queue), transient failures retried briefly with backoff, re-login once on AuthExpired.
 */
export class KojiSession {
  readonly profile: KojiProfile;
  /** HTTP requests sent (what the watch benchmark counts). */
  requests = 0;
  private readonly endpoint: Endpoint;
  private readonly opts: SessionOptions;
  private auth?: { id: string; key: string };
  private callnum = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: SessionOptions) {
    this.opts = opts;
    this.profile = opts.profile;
    this.endpoint = { url: new URL(opts.profile.server), tls: readTls(opts.profile), timeoutMs: opts.timeoutMs ?? 60_000 };
  }

  /** The profile's serverca (trusted for topurl downloads too), if any. */
  get serverCa(): Buffer | undefined {
    return this.endpoint.tls?.ca;
  }

  get loggedIn(): boolean {
    return this.auth !== undefined;
  }

  /** The web page of a task (weburl/taskinfo?taskID=N), or undefined without a weburl. */
  taskUrl(taskId: number): string | undefined {
    return this.profile.weburl ? `${this.profile.weburl.replace(/\/$/, '')}/taskinfo?taskID=${taskId}` : undefined;
  }

  call(method: string, ...params: unknown[]): Promise<unknown> {
    return this.serial(() => this.callRelogging(method, params));
  }

  /** Many calls in one request; each result is its value or its fault. */
  async multiCall(calls: MultiCallEntry[]): Promise<MultiCallResult[]> {
    const raw = await this.call('multiCall', calls);
    if (!Array.isArray(raw) || raw.length !== calls.length) throw new PatchlineError('EKOJI', `Koji multiCall: expected ${calls.length} results, got ${JSON.stringify(raw).slice(0, 100)}`, { input: 'multiCall' });
    return raw.map((r, i): MultiCallResult => {
      if (Array.isArray(r)) return { ok: true, value: r[0] };
      const fault = asStruct(r, 'a multiCall fault');
      return { ok: false, error: kojiFaultError(calls[i]!.methodName, toInt(fault.faultCode, 'faultCode'), String(fault.faultString ?? '')) };
    });
  }

  login(): Promise<void> {
    return this.serial(() => this.loginNow());
  }

  async logout(): Promise<void> {
    if (!this.auth) return;
    await this.call('logout');
    this.auth = undefined;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async callRelogging(method: string, params: unknown[]): Promise<unknown> {
    try {
      return await this.send(method, params);
    } catch (err) {
      if (faultCodeOf(err) !== AUTH_EXPIRED || !this.auth) throw err;
      this.opts.log?.(`Koji session expired; logging in again to ${this.profile.server}`);
      await this.loginNow();
      return this.send(method, params);
    }
  }

  private async loginNow(): Promise<void> {
    this.auth = undefined;
    let result: unknown;
    if (this.profile.authtype === 'ssl') {
      result = await this.send('sslLogin', [kwargs({ proxyuser: null })], 'ssllogin');
    } else {
      if (!this.profile.user || this.opts.password === undefined) {
        throw new PatchlineError('ECONFIG', `Koji profile [${this.profile.name}]: password login needs "user" in the profile and a password secret in the config`, { input: this.profile.file });
      }
      result = await this.send('login', [this.profile.user, this.opts.password, kwargs({ opts: null })]);
    }
    const s = asStruct(result, 'a login session');
    this.auth = { id: String(toInt(s['session-id'], 'session-id')), key: String(s['session-key']) };
    this.callnum = 0;
  }

  private send(method: string, params: unknown[], path = ''): Promise<unknown> {
    const budget = this.opts.retryBudgetMs ?? RETRY_BUDGET_MS;
    const firstDelay = Math.min(this.opts.retryDelayMs ?? 500, MAX_RETRY_DELAY_MS);
    const started = Date.now();
    let retrying = false;
    return pRetry(
      () => {
        this.requests += 1;
        // Every attempt takes the next callnum. The hub refuses the callnum of a call that changed
        // data (RetryError 1009), so reusing it (as koji's client does) would refuse a retried
        // cancelTask whose first answer was lost; build/uploadFile are not resent anyway (retryable).
        const headers: Record<string, string> = this.auth
          ? { 'Koji-Session-Id': this.auth.id, 'Koji-Session-Key': this.auth.key, 'Koji-Session-Callnum': String(this.callnum++) }
          : {};
        return callXmlRpc(this.endpoint, method, params, headers, path);
      },
      {
        retries: this.opts.retries ?? 5,
        minTimeout: firstDelay,
        maxTimeout: MAX_RETRY_DELAY_MS,
        factor: 2,
        // no retry that would start past the budget (the delay before retry n is the one p-retry waits)
        shouldRetry: (err) => {
          const delay = Math.min(firstDelay * 2 ** (err.attemptNumber - 1), MAX_RETRY_DELAY_MS);
          retrying = err.retriesLeft > 0 && retryable(method, err) && Date.now() - started + delay <= budget;
          return retrying;
        },
        onFailedAttempt: (err) => {
          if (retrying) this.opts.log?.(`${err.message}; retrying (${err.retriesLeft} left)`);
        },
      },
    );
  }
}
