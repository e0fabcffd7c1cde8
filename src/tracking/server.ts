/**
 * `patchline serve`: the tracking REST API (fastify). It acts through the same TrackingBackend as
 * the local CLI (localBackend of the state dir), so the CLI against the API and against the state
 * dir give the same results. Every route but /healthz needs HTTP Basic auth against serve.users.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { resolveFrom, type LoadedConfig } from '../core/config.js';
import { PatchlineError, asPatchlineError, isErrno } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { describeSchemaErrors, validatorFor } from '../core/schemas.js';
import { createAuthenticator, parseBasicAuth, type Authenticator } from './auth.js';
import { isLoopback, parseListen, type ListenAddress } from './listen.js';
import type { TrackingBackend, TrackingItemInput } from './types.js';

export const DEFAULT_LISTEN = '127.0.0.1:8443';
export const DEFAULT_MAX_BODY_BYTES = 65536;
export const DEFAULT_RATE_LIMIT = 120;

export interface ServerOptions {
  loaded: LoadedConfig;
  backend: TrackingBackend;
  log: Logger;
  /** Overrides serve.listen. */
  listen?: string;
}

export interface RunningServer {
  /** e.g. https://127.0.0.1:8443 */
  url: string;
  close(): Promise<void>;
}

function readPem(loaded: LoadedConfig, key: 'cert' | 'key'): Buffer {
  const path = resolveFrom(loaded.baseDir, loaded.config.serve![key]!);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new PatchlineError('ECONFIG', `serve.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { input: path });
  }
}

/** serve.cert + serve.key, or nothing; plain HTTP is refused off loopback. */
function tlsFor(loaded: LoadedConfig, address: ListenAddress, listen: string): { cert: Buffer; key: Buffer } | undefined {
  const serve = loaded.config.serve ?? {};
  if ((serve.cert === undefined) !== (serve.key === undefined)) throw new PatchlineError('ECONFIG', `serve.${serve.cert === undefined ? 'cert' : 'key'}: required with serve.${serve.cert === undefined ? 'key' : 'cert'}`, { input: loaded.file });
  if (serve.cert !== undefined) return { cert: readPem(loaded, 'cert'), key: readPem(loaded, 'key') };
  if (!isLoopback(address.host)) throw new PatchlineError('ECONFIG', `refusing plain HTTP on ${listen}: not a loopback address (127.0.0.0/8, ::1); set serve.cert and serve.key for HTTPS`, { input: listen });
  return undefined;
}

/** A one-field query value (repeated or missing: a 400 naming it). */
function queryValue(req: FastifyRequest, name: string, required: boolean): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v === '') throw badRequest(`query parameter ${name}: ${v === undefined || v === '' ? 'required' : 'give it once'}`, name);
  return v;
}

function itemKey(req: FastifyRequest): { repo: string; branch: string } {
  return { repo: queryValue(req, 'repo', true)!, branch: queryValue(req, 'branch', true)! };
}

/** A body that is one tracking item (the same schema as the YAML files); 400 naming the first bad field. */
function validItem(body: unknown): TrackingItemInput {
  const validate = validatorFor('tracking-item.schema.json');
  if (validate(body)) return body as TrackingItemInput;
  const lines = describeSchemaErrors(validate.errors);
  throw badRequest(`invalid tracking item: ${lines.join('; ')}`, lines[0]?.split(':')[0]);
}

const NOT_FOUND = 404;

/** A request the client must change: 400 (an ETRACK on the client side). */
function badRequest(message: string, input?: string): PatchlineError {
  return new PatchlineError('ETRACK', message, { input, details: { httpStatus: 400 } });
}

/** The HTTP status of an error, and its JSON body (PatchlineError.toJSON). */
function httpError(err: unknown): { status: number; body: ReturnType<PatchlineError['toJSON']> } {
  if (err instanceof PatchlineError) {
    // EUSAGE: the backend refused the input; anything else went wrong on the server's side
    const status = typeof err.details?.httpStatus === 'number' ? err.details.httpStatus : err.code === 'EAUTH' ? 401 : err.code === 'EUSAGE' ? 400 : 500;
    return { status, body: err.toJSON() };
  }
  const fe = err as Partial<FastifyError>;
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const message = status === 413 ? `request body larger than the server accepts (serve.maxBodyBytes)` : status === 429 ? `too many requests (serve.rateLimit per minute): ${fe.message ?? ''}`.trim() : (fe.message ?? 'bad request');
    return { status, body: { code: 'ETRACK', message } };
  }
  return { status: 500, body: { code: 'EINTERNAL', message: 'internal error (see the server log)' } };
}

/** The fastify app: routes, auth, limits and one log line per request. */
export async function buildApp(opts: ServerOptions & { tls?: { cert: Buffer; key: Buffer }; auth: Authenticator }): Promise<FastifyInstance> {
  const serve = opts.loaded.config.serve ?? {};
  const common = { logger: false, bodyLimit: serve.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, return503OnClosing: true, forceCloseConnections: 'idle' as const };
  const app = (opts.tls ? Fastify({ ...common, https: opts.tls }) : Fastify(common)) as unknown as FastifyInstance;
  const users = new WeakMap<FastifyRequest, string>();
  const { backend, log } = opts;

  app.addHook('onResponse', async (req, reply) => {
    // never the headers (Authorization) nor the body
    const user = users.get(req);
    log.info(`${req.ip} ${req.method} ${req.url} ${reply.statusCode} ${Math.round(reply.elapsedTime)}ms${user ? ` user=${user}` : ''}`);
  });
  app.setErrorHandler(async (err, req, reply) => {
    const { status, body } = httpError(err);
    if (status === 401) void reply.header('www-authenticate', 'Basic realm="patchline", charset="UTF-8"');
    if (status >= 500) log.warn(`${req.method} ${req.url}: ${asPatchlineError(err).message}`);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(NOT_FOUND).send({ code: 'ETRACK', message: `no route ${req.method} ${req.url.split('?')[0]} (routes: GET/POST/PATCH/DELETE /tracking, GET /reviews, GET /healthz)` }));

  // counted before the auth below: password guesses are rate bounded too
  await app.register(rateLimit, { max: serve.rateLimit ?? DEFAULT_RATE_LIMIT, timeWindow: 60_000, hook: 'onRequest' });

  // before the body is read: an unauthenticated client cannot make the server parse anything
  const requireUser = async (req: FastifyRequest, _reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const user = await opts.auth.verify(parseBasicAuth(req.headers.authorization));
    if (user === undefined) throw new PatchlineError('EAUTH', req.headers.authorization === undefined ? 'authentication required (HTTP Basic, a user of serve.users)' : 'wrong user name or password');
    users.set(req, user);
    return payload;
  };
  const auth = { preParsing: requireUser };

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/tracking', auth, async (req) => ({ items: await backend.list({ repo: queryValue(req, 'repo', false), branch: queryValue(req, 'branch', false) }) }));
  app.post('/tracking', auth, async (req, reply) => reply.code(201).send(await backend.add(validItem(req.body))));
  app.patch('/tracking', auth, async (req) => {
    const key = itemKey(req);
    const enabled = (req.body as { enabled?: unknown } | undefined)?.enabled;
    if (typeof enabled !== 'boolean') throw badRequest('enabled: expected boolean (body {"enabled": true|false})', 'enabled');
    return onItem(backend, key, () => backend.setEnabled(key, enabled));
  });
  app.delete('/tracking', auth, async (req, reply) => {
    const key = itemKey(req);
    await onItem(backend, key, () => backend.remove(key));
    return reply.code(204).send();
  });
  app.get('/reviews', auth, async () => ({ reviews: await backend.reviews() }));
  return app;
}

/** `op` on one item; when it fails and no item has this key, a 404 with the backend's message. */
async function onItem<T>(backend: TrackingBackend, key: { repo: string; branch: string }, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof PatchlineError && (await backend.list(key)).length === 0) {
      throw new PatchlineError(err.code, err.message, { input: err.input, details: { ...err.details, httpStatus: NOT_FOUND } });
    }
    throw err;
  }
}

/** Check the config, then listen (HTTPS with serve.cert/serve.key; plain HTTP only on loopback). */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const listen = opts.listen ?? opts.loaded.config.serve?.listen ?? DEFAULT_LISTEN;
  const address = parseListen(listen);
  const tls = tlsFor(opts.loaded, address, listen);
  const users = opts.loaded.config.serve?.users ?? [];
  if (users.length === 0) throw new PatchlineError('ECONFIG', 'serve.users: no user; add one with the hash `patchline passwd --user NAME` prints', { input: opts.loaded.file });
  const auth = await createAuthenticator(users);
  let app: FastifyInstance;
  try {
    app = await buildApp({ ...opts, tls, auth });
  } catch (err) {
    throw new PatchlineError('ECONFIG', `serve.cert/serve.key: ${(err as Error).message}`, { input: opts.loaded.file, cause: err });
  }
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (err) {
    await app.close();
    const why = isErrno(err, 'EADDRINUSE') ? 'address in use' : isErrno(err, 'EADDRNOTAVAIL') ? 'not an address of this machine' : (err as Error).message;
    throw new PatchlineError('ECONFIG', `cannot listen on ${listen}: ${why}`, { input: listen });
  }
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return { url: `${tls ? 'https' : 'http'}://${host}:${port}`, close: () => app.close() };
}
