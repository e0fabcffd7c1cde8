import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { PatchlineError } from '../core/errors.js';
import { readSecret } from '../core/secrets.js';
import { basicAuthHeader, type BasicCredentials } from './auth.js';
import { isLoopback } from './listen.js';
import type { ReviewRecord, TrackingBackend, TrackingItem } from './types.js';

export interface RemoteOptions {
  /** Base URL of `patchline serve`, e.g. https://patchline.example.com:8443 */
  server: string;
  /** Basic-auth user for writes (else PATCHLINE_SERVER_USER). */
  user?: string;
  /** A file whose first line is the password (else PATCHLINE_SERVER_PASSWORD). Never a command-line password. */
  passwordFile?: string;
  /** A CA bundle to trust the server's certificate. */
  caFile?: string;
}

export const USER_ENV = 'PATCHLINE_SERVER_USER';
export const PASSWORD_ENV = 'PATCHLINE_SERVER_PASSWORD';
const TIMEOUT_MS = 60_000;

/** The server's base URL; plain http:// only to loopback (the server refuses it elsewhere too: credentials would travel in clear). */
function baseUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new PatchlineError('EUSAGE', `--server ${server}: not a URL (e.g. https://patchline.example.com:8443)`, { input: server });
  }
  if (url.username !== '' || url.password !== '') throw new PatchlineError('EUSAGE', `--server: no credentials in the URL; set ${USER_ENV} and ${PASSWORD_ENV} (or a password file)`, { input: `${url.protocol}//${url.host}` });
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PatchlineError('EUSAGE', `--server ${server}: expected https:// (or http:// to loopback)`, { input: server });
  if (url.protocol === 'http:' && !isLoopback(url.hostname.replace(/^\[|\]$/g, ''))) throw new PatchlineError('EUSAGE', `--server ${server}: plain http:// only to a loopback address; use https://`, { input: server });
  url.search = '';
  return url;
}

/** From the options, else the environment; a password only from a file or the environment, never argv. */
function credentials(opts: RemoteOptions, env: NodeJS.ProcessEnv): BasicCredentials | undefined {
  const user = opts.user ?? (env[USER_ENV] || undefined);
  const hasPassword = opts.passwordFile !== undefined || (env[PASSWORD_ENV] ?? '') !== '';
  if (user === undefined && !hasPassword) return undefined;
  if (user === undefined) throw new PatchlineError('EUSAGE', `a password but no user: set ${USER_ENV}`);
  if (!hasPassword) throw new PatchlineError('EUSAGE', `user ${user} but no password: set ${PASSWORD_ENV} or give a password file`, { input: user });
  const password = opts.passwordFile !== undefined ? readSecret({ file: opts.passwordFile }, 'tracking server password', process.cwd()).split(/\r?\n/)[0]! : readSecret({ env: PASSWORD_ENV }, 'tracking server password', process.cwd(), env);
  return { user, password };
}

interface Reply {
  status: number;
  body: unknown;
}

function send(url: URL, method: string, headers: Record<string, string>, payload: string | undefined, ca: Buffer | undefined): Promise<Reply> {
  return new Promise((done, fail) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method, headers, timeout: TIMEOUT_MS, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          // not JSON: kept as text for the error message
        }
        done({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', fail);
    req.end(payload);
  });
}

/** The track commands against a `patchline serve` (its REST API). */
export function remoteBackend(opts: RemoteOptions, env: NodeJS.ProcessEnv = process.env): TrackingBackend {
  const base = baseUrl(opts.server);
  let ca: Buffer | undefined;
  if (opts.caFile !== undefined) {
    try {
      ca = readFileSync(opts.caFile);
    } catch (err) {
      throw new PatchlineError('EUSAGE', `CA file: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { input: opts.caFile });
    }
  }
  let creds: BasicCredentials | undefined | null = null;

  async function call(method: string, path: string, query?: Record<string, string | undefined>, body?: unknown): Promise<unknown> {
    if (creds === null) creds = credentials(opts, env);
    const url = new URL(base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (creds) headers.authorization = basicAuthHeader(creds);
    const where = `${method} ${url.href}`;
    let reply: Reply;
    try {
      reply = await send(url, method, headers, payload, ca);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) ? ' (a self-signed server: trust its certificate with a CA file)' : '';
      throw new PatchlineError('ETRACK', `cannot reach the tracking server: ${code}${tls}`, { input: where });
    }
    if (reply.status < 400) return reply.body;
    const said = typeof reply.body === 'object' && reply.body !== null && typeof (reply.body as { message?: unknown }).message === 'string' ? (reply.body as { message: string }).message : `HTTP ${reply.status}`;
    if (reply.status === 401) throw new PatchlineError('EAUTH', `the tracking server refused: ${said}${creds ? ` (user ${creds.user})` : `; set ${USER_ENV} and ${PASSWORD_ENV}`}`, { input: where });
    throw new PatchlineError('ETRACK', `the tracking server refused: ${said}`, { input: where, details: { httpStatus: reply.status } });
  }

  return {
    list: async (filter) => ((await call('GET', '/tracking', filter)) as { items: TrackingItem[] }).items,
    add: async (item) => (await call('POST', '/tracking', undefined, item)) as TrackingItem,
    remove: async (key) => {
      await call('DELETE', '/tracking', key);
    },
    setEnabled: async (key, enabled) => (await call('PATCH', '/tracking', key, { enabled })) as TrackingItem,
    reviews: async () => ((await call('GET', '/reviews')) as { reviews: ReviewRecord[] }).reviews,
  };
}
