import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import Deserializer from 'xmlrpc/lib/deserializer.js';
import { serializeFault, serializeMethodResponse } from 'xmlrpc/lib/serializer.js';
import { PACKAGE_ROOT } from '../../src/core/paths.js';

/**
 * A Koji hub for tests, speaking XML-RPC on 127.0.0.1 over HTTP or HTTPS. It answers from the
 * bodies recorded from a real Koji 1.35.3 hub (../shared/koji-fixtures), adapting ids and
 * states as a scenario moves each task FREE -> OPEN -> CLOSED/FAILED/CANCELED, and it refuses
 * what the real hub refuses: GET (405), an empty POST (400), an unknown method (1000), wrong
 * arguments (1019), an authenticated call without a session (1004), a bad session (1002), a
 * repeated callnum (1009 RetryError), a lower one (1008 SequenceError), sslLogin without a
 * client certificate (1002), a negative priority (1004).
 */

export const FIXTURES = process.env.KOJI_FIXTURES ?? resolve(PACKAGE_ROOT, '../shared/koji-fixtures');

interface Exchange {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function readExchange(file: string): Exchange {
  const text = readFileSync(join(FIXTURES, file), 'utf8');
  const response = text.slice(text.indexOf('=== RESPONSE ===\n') + 17);
  const split = response.indexOf('\n\n');
  const [statusLine, ...headerLines] = response.slice(0, split).split('\n');
  const headers: Record<string, string> = {};
  for (const l of headerLines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
  return { status: Number(statusLine!.split(' ')[1]), headers, body: response.slice(split + 2) };
}

function parse(xml: string): Promise<{ value?: unknown; fault?: { faultCode: number; faultString: string } }> {
  return new Promise((ok) => {
    const s = new PassThrough();
    new Deserializer().deserializeMethodResponse(s, (err, value) => {
      if (err && typeof (err as { faultCode?: number }).faultCode === 'number') ok({ fault: { faultCode: (err as { faultCode: number }).faultCode, faultString: (err as { faultString: string }).faultString } });
      else if (err) ok({}); // multiCall.txt: its tracebacks were shortened to "<koji-src>/", no longer XML
      else ok({ value });
    });
    s.end(xml);
  });
}

class Fault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(faultString);
  }
}

/** What one task does as the scenario advances (one step per poll of its root task). */
export type TaskOutcome = 'close' | 'fail' | 'hang';

export interface HubOptions {
  tls?: TestPki;
  /** Known users: name -> password. */
  users?: Record<string, string>;
  targets?: string[];
  /** NVRs getBuild knows (COMPLETE). */
  builds?: string[];
  /** How the task for a target ends (default close). */
  outcomes?: Record<string, TaskOutcome>;
  /** Destroy the connection of the next N requests without an answer. */
  dropConnections?: number;
  /** Answer the next N requests with HTTP 503, as a hub behind a proxy does while restarting. */
  unavailable?: number;
}

interface Session {
  id: number;
  key: string;
  user: string;
  authtype: number;
  callnum?: number;
  expired: boolean;
}

interface Task {
  id: number;
  method: string;
  parent: number | null;
  label: string | null;
  state: number;
  request: unknown[];
  outcome: TaskOutcome;
  step: number;
  files: Record<string, Buffer>;
}

const FREE = 0, OPEN = 1, CLOSED = 2, CANCELED = 3, FAILED = 5;
const FINISHED = new Set([CLOSED, CANCELED, FAILED]);
/** Methods the real hub refuses without a logged-in session. */
const AUTHENTICATED = new Set(['build', 'cancelTask', 'uploadFile', 'logout']);

export interface HubRequest {
  path: string;
  methods: string[];
  sessionId?: string;
  callnum?: string;
  clientCertCN?: string;
}

export class KojiHub {
  url = '';
  /** Every XML-RPC request answered, in order. */
  readonly requests: HubRequest[] = [];
  readonly sessions = new Map<number, Session>();
  readonly tasks = new Map<number, Task>();
  readonly uploads = new Map<string, Buffer>();
  dropConnections: number;
  unavailable: number;
  private server?: http.Server;
  private readonly opts: HubOptions;
  private readonly signatures: Record<string, string>;
  private readonly recorded = new Map<string, { value?: unknown; fault?: { faultCode: number; faultString: string } }>();
  private readonly http405 = readExchange('http.get-not-allowed.txt');
  private readonly http400 = readExchange('http.empty-post.txt');
  private nextSession = 10;
  private nextTask = 1;

  constructor(opts: HubOptions = {}) {
    this.opts = opts;
    this.dropConnections = opts.dropConnections ?? 0;
    this.unavailable = opts.unavailable ?? 0;
    this.signatures = JSON.parse(readFileSync(join(FIXTURES, 'hub-api-signatures.json'), 'utf8')) as Record<string, string>;
  }

  async start(): Promise<this> {
    for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.txt') && !n.startsWith('http.'))) {
      const ex = readExchange(f);
      this.recorded.set(f.replace(/\.txt$/, ''), await parse(ex.body));
    }
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = this.opts.tls
      ? https.createServer({ key: this.opts.tls.serverKey, cert: this.opts.tls.serverCert, ca: this.opts.tls.caCert, requestCert: true, rejectUnauthorized: false }, handler)
      : http.createServer(handler);
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    const port = (this.server.address() as AddressInfo).port;
    this.url = `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/kojihub`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  /** The next call of this session fails with AuthExpired (1007), as a hub does after the session timeout. */
  expireSessions(): void {
    for (const s of this.sessions.values()) s.expired = true;
  }

  /** XML-RPC calls made, by method, counting the calls inside multiCall. */
  methodCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) for (const m of r.methods) out[m] = (out[m] ?? 0) + 1;
    return out;
  }

  /** Start `n` running build tasks directly (the benchmark). */
  seedRunningTasks(n: number): number[] {
    return Array.from({ length: n }, () => {
      const t = this.newTask('build', null, null, ['git+https://src.example.org/rpms/hello.git#0123456789abcdef0123456789abcdef01234567', 'f40-candidate', { scratch: true }], 'hang');
      t.state = OPEN;
      return t.id;
    });
  }

  private recordedValue(name: string): unknown {
    const r = this.recorded.get(name);
    if (!r || r.fault) throw new Error(`fixture ${name} has no value`);
    return structuredClone(r.value);
  }

  private recordedFault(name: string, fill: (s: string) => string = (s) => s): Fault {
    const f = this.recorded.get(name)?.fault;
    if (!f) throw new Error(`fixture ${name} is not a fault`);
    return new Fault(f.faultCode, fill(f.faultString));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.dropConnections > 0) {
      this.dropConnections -= 1;
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, type: string, text: string) => {
      res.writeHead(status, { 'Koji-Version': '1.35.3', 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (this.unavailable > 0) {
      this.unavailable -= 1;
      return send(503, 'text/plain', 'Service Unavailable');
    }
    if (req.method !== 'POST') return send(this.http405.status, this.http405.headers['content-type']!, this.http405.body);
    if (body.length === 0) return send(this.http400.status, this.http400.headers['content-type']!, this.http400.body);
    let method: string;
    let params: unknown[];
    try {
      ({ method, params } = await new Promise<{ method: string; params: unknown[] }>((ok, ko) => {
        const s = new PassThrough();
        new Deserializer().deserializeMethodCall(s, (err, m, p) => (err ? ko(err) : ok({ method: m, params: p })));
        s.end(body);
      }));
    } catch {
      return send(400, 'text/plain', 'Bad Request');
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const cert = this.opts.tls ? (req.socket as TLSSocket) : undefined;
    const peer = cert?.getPeerCertificate();
    const clientCertCN = cert?.authorized && peer?.subject ? String(peer.subject.CN) : undefined;
    const entry: HubRequest = {
      path,
      methods: method === 'multiCall' ? ((params[0] as Array<{ methodName: string }>) ?? []).map((c) => c.methodName) : [method],
      ...(req.headers['koji-session-id'] ? { sessionId: String(req.headers['koji-session-id']) } : {}),
      ...(req.headers['koji-session-callnum'] ? { callnum: String(req.headers['koji-session-callnum']) } : {}),
      ...(clientCertCN ? { clientCertCN } : {}),
    };
    this.requests.push(entry);
    try {
      const session = this.checkSession(req.headers);
      const value = path.endsWith('/ssllogin') ? this.sslLogin(clientCertCN) : this.dispatch(method, params, session, true);
      send(200, 'text/xml', serializeMethodResponse(value));
    } catch (err) {
      if (!(err instanceof Fault)) throw err;
      send(200, 'text/xml', serializeFault({ faultCode: err.faultCode, faultString: err.faultString }));
    }
  }

  private checkSession(headers: http.IncomingHttpHeaders): Session | undefined {
    const id = headers['koji-session-id'];
    if (id === undefined) return undefined;
    const session = this.sessions.get(Number(id));
    if (!session || session.key !== headers['koji-session-key']) throw this.recordedFault('getLoggedInUser.fault.bad-session');
    if (session.expired) throw new Fault(1007, `session "${session.id}" has expired`);
    const callnum = Number(headers['koji-session-callnum']);
    if (session.callnum !== undefined && callnum < session.callnum) throw new Fault(1008, `${session.callnum} > ${callnum} (session ${session.id})`);
    if (session.callnum !== undefined && callnum === session.callnum) throw new Fault(1009, `unable to retry call ${callnum} (method) for session ${session.id}`);
    session.callnum = callnum;
    return session;
  }

  private newSession(user: string, authtype: number): Record<string, unknown> {
    const id = this.nextSession++;
    const key = `${id}-${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 20)}`;
    this.sessions.set(id, { id, key, user, authtype, expired: false });
    const value = this.recordedValue('login.password') as Record<string, unknown>;
    return { ...value, 'session-id': id, 'session-key': key };
  }

  private sslLogin(cn: string | undefined): unknown {
    if (!cn) throw this.recordedFault('sslLogin.no-client-cert');
    return this.newSession(cn, 2);
  }

  /** Python-style argument check against hub-api-signatures.json (fault 1019 like the hub's TypeError). */
  private checkArguments(method: string, params: unknown[]): { args: unknown[]; kw: Record<string, unknown> } {
    const last = params.at(-1) as Record<string, unknown> | undefined;
    const hasKw = typeof last === 'object' && last !== null && !Array.isArray(last) && last.__starstar === true;
    const args = hasKw ? params.slice(0, -1) : params;
    const kw = hasKw ? Object.fromEntries(Object.entries(last).filter(([k]) => k !== '__starstar')) : {};
    const sig = this.signatures[method]!;
    const names = sig.slice(sig.indexOf('(') + 1, -1).split(',').map((a) => a.trim()).filter(Boolean);
    if (names.some((n) => n.startsWith('*'))) return { args, kw };
    const required = names.filter((n) => !n.includes('='));
    const all = names.map((n) => n.split('=')[0]!);
    const given = new Set([...all.slice(0, args.length), ...Object.keys(kw)]);
    const missing = required.filter((n) => !given.has(n));
    if (args.length > all.length || Object.keys(kw).some((k) => !all.includes(k))) {
      throw new Fault(1019, `RootExports.${method}() takes ${all.length} positional arguments but ${args.length} were given`);
    }
    if (missing.length > 0) {
      throw this.recordedFault('getTaskInfo.fault.wrong-arguments', () => `RootExports.${method}() missing ${missing.length} required positional argument${missing.length > 1 ? 's' : ''}: ${missing.map((m) => `'${m}'`).join(' and ')}`);
    }
    const named: Record<string, unknown> = {};
    all.forEach((n, i) => (named[n] = i < args.length ? args[i] : kw[n]));
    return { args: all.map((n) => named[n]), kw };
  }

  private dispatch(method: string, params: unknown[], session: Session | undefined, top: boolean): unknown {
    if (method === 'multiCall' && top) {
      return (params[0] as Array<{ methodName: string; params: unknown[] }>).map((c) => {
        try {
          return [this.dispatch(c.methodName, c.params, session, false)];
        } catch (err) {
          if (!(err instanceof Fault)) throw err;
          return { faultCode: err.faultCode, faultString: err.faultString, traceback: [] };
        }
      });
    }
    if (!(method in this.signatures) || method === 'multiCall') throw this.recordedFault('noSuchMethod.fault.invalid-method', () => `Invalid method: ${method}`);
    const { args } = this.checkArguments(method, params);
    if (AUTHENTICATED.has(method) && !session) throw this.recordedFault('build.not-logged-in');
    switch (method) {
      case 'login': {
        const [user, password] = args as [string, string];
        if (this.opts.users?.[user] !== password) throw this.recordedFault('login.wrong-password');
        return this.newSession(user, 0);
      }
      case 'sslLogin':
        throw this.recordedFault('sslLogin.no-client-cert');
      case 'logout':
        this.sessions.delete(session!.id);
        return null;
      case 'getAPIVersion':
        return this.recordedValue('getAPIVersion');
      case 'getLoggedInUser':
        return session ? { ...(this.recordedValue('getLoggedInUser') as object), name: session.user, authtype: session.authtype } : null;
      case 'getBuildTarget': {
        const name = String(args[0]);
        if (!(this.opts.targets ?? ['f40-candidate']).includes(name)) return null;
        return { ...(this.recordedValue('getBuildTarget') as object), name };
      }
      case 'getBuild': {
        const nvr = String(args[0]);
        if (!(this.opts.builds ?? []).includes(nvr)) return null;
        const [name, version, release] = nvr.split(/-(?=[^-]+-[^-]+$)|-(?=[^-]+$)/);
        return { ...(this.recordedValue('getBuild') as object), nvr, name, version, release };
      }
      case 'build':
        return this.build(args);
      case 'uploadFile':
        return this.uploadFile(args);
      case 'getTaskInfo':
        return this.taskInfo(args[0]);
      case 'getTaskChildren':
        return [...this.tasks.values()].filter((t) => t.parent === Number(args[0])).map((t) => this.taskStruct(t, false));
      case 'getTaskResult':
        return this.taskResult(Number(args[0]));
      case 'listTaskOutput':
        return Object.keys(this.tasks.get(Number(args[0]))?.files ?? {});
      case 'downloadTaskOutput': {
        const [id, name, offset, size] = args as [number, string, number | undefined, number | undefined];
        const data = this.tasks.get(id)?.files[name];
        if (!data) throw this.recordedFault('downloadTaskOutput.no-file', () => `no file "${name}" output by task ${id}`);
        const from = offset ?? 0;
        return data.subarray(from, size === undefined || size < 0 ? undefined : from + size).toString('base64');
      }
      case 'cancelTask': {
        for (const t of this.tasks.values()) if ((t.id === Number(args[0]) || t.parent === Number(args[0])) && !FINISHED.has(t.state)) t.state = CANCELED;
        return null;
      }
      default:
        throw new Error(`the test hub does not implement ${method}`);
    }
  }

  private build(args: unknown[]): number {
    const [src, target, opts, priority] = args as [string, string, Record<string, unknown> | null, number | null];
    if (typeof priority === 'number' && priority < 0) throw this.recordedFault('build.negative-priority');
    const outcome = (this.opts.targets ?? ['f40-candidate']).includes(target) ? (this.opts.outcomes?.[target] ?? 'close') : 'fail';
    return this.newTask('build', null, null, [src, target, opts ?? {}], outcome).id;
  }

  private uploadFile(args: unknown[]): boolean {
    const [dir, name, size, checksum, offset, data] = args as [string, string, number, [string, string], number, string];
    const key = `${dir}/${name}`;
    const have = this.uploads.get(key) ?? Buffer.alloc(0);
    if (offset === -1) {
      if (have.length !== size || createHash(checksum[0]).update(have).digest('hex') !== checksum[1]) throw new Fault(1000, `File upload verification failed for ${key}`);
      return true;
    }
    const chunk = Buffer.from(data, 'base64');
    if (chunk.length !== size || createHash(checksum[0]).update(chunk).digest('hex') !== checksum[1]) throw new Fault(1000, `Corrupt upload chunk of ${key}`);
    if (offset !== have.length) throw new Fault(1000, `Unexpected upload offset ${offset} for ${key} (have ${have.length})`);
    this.uploads.set(key, Buffer.concat([have, chunk]));
    return true;
  }

  private newTask(method: string, parent: number | null, label: string | null, request: unknown[], outcome: TaskOutcome): Task {
    const t: Task = { id: this.nextTask++, method, parent, label, state: FREE, request, outcome, step: 0, files: {} };
    this.tasks.set(t.id, t);
    return t;
  }

  /** One scenario step of a root task and its buildArch child, taken when the root is polled. */
  private advance(root: Task): void {
    if (root.parent !== null || FINISHED.has(root.state) || root.outcome === 'hang') return;
    root.step += 1;
    const child = [...this.tasks.values()].find((t) => t.parent === root.id);
    if (root.step === 1) {
      root.state = OPEN;
      this.newTask('buildArch', root.id, 'noarch', [], root.outcome);
    } else if (root.step === 2 && child) {
      child.state = OPEN;
    } else if (root.step >= 3 && child) {
      const buildLog = Buffer.from(String(this.recordedValue('downloadTaskOutput.build.log')), 'base64');
      if (root.outcome === 'fail') {
        child.files = { 'build.log': Buffer.concat([buildLog, Buffer.from('error: Bad exit status from /var/tmp/rpm-tmp (%build)\n')]), 'root.log': Buffer.from('DEBUG util.py: child return code was: 0\n') };
        child.state = FAILED;
        root.state = FAILED;
      } else {
        const src = String(root.request[0]).split('/').pop()!.replace(/\.src\.rpm$/, '').replace(/#.*$/, '');
        child.files = { 'build.log': buildLog, 'root.log': Buffer.from('root\n'), [`${src.endsWith('.git') ? 'hello-1.0-1.fc40' : src}.noarch.rpm`]: Buffer.from('rpm') };
        child.state = CLOSED;
        root.state = CLOSED;
      }
    }
  }

  private taskStruct(t: Task, request: boolean): Record<string, unknown> {
    const base = this.recordedValue(t.parent === null ? 'getTaskInfo.FREE' : 'getTaskInfo.OPEN') as Record<string, unknown>;
    const s: Record<string, unknown> = { ...base, id: t.id, method: t.method, parent: t.parent, label: t.label, state: t.state, arch: 'noarch' };
    if (request) s.request = t.request;
    else delete s.request;
    return s;
  }

  private taskInfo(id: unknown): unknown {
    const t = this.tasks.get(Number(id));
    if (!t) return null;
    this.advance(t);
    return this.taskStruct(t, false);
  }

  private taskResult(id: number): unknown {
    const t = this.tasks.get(id);
    if (!t || !FINISHED.has(t.state)) throw this.recordedFault('getTaskResult.not-finished', () => `Task ${id} is not finished`);
    if (t.state === FAILED) throw this.recordedFault('getTaskResult.failed');
    if (t.state === CANCELED) throw this.recordedFault('getTaskResult.canceled', () => `Task ${id} is canceled`);
    return null;
  }
}

/** A test CA, a server certificate for 127.0.0.1 and a client certificate (CN=patchline), made with openssl. */
export interface TestPki {
  caCert: Buffer;
  serverKey: Buffer;
  serverCert: Buffer;
  /** PEM file with the client key and certificate (koji's `cert` option). */
  clientPemFile: string;
  caFile: string;
}

export function makeTestPki(dir: string): TestPki {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=patchline test CA');
  const leaf = (name: string, cn: string, ext: string) => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  };
  leaf('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'patchline', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f));
  const clientPemFile = join(dir, 'client.pem');
  writeFileSync(clientPemFile, Buffer.concat([read('client.key'), read('client.crt')]));
  return { caCert: read('ca.crt'), serverKey: read('server.key'), serverCert: read('server.crt'), clientPemFile, caFile: join(dir, 'ca.crt') };
}
