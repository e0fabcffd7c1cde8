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
 * bodies recorded from a real Koji 1.35.3 hub (test/fixtures/koji), adapting ids and
 * states as a scenario moves each task FREE -> OPEN -> CLOSED/FAILED/CANCELED, and it refuses
 * what the real hub refuses: GET (405), an empty POST (400), an unknown method (1000), wrong
 * arguments (1019), an authenticated call without a session (1004), a bad session (1002),
 * sslLogin without a client certificate (1002), a negative priority (1004).
 *
 * Like the real hub (README "Behaviour learned"):
 * - callnums: a session's callnum is recorded only by a call that changed data (build, a
 *   cancelTask that canceled something); a lower callnum than the recorded one is SequenceError
 *   1008, the same one RetryError 1009; after read-only calls any callnum goes;
 * - faults inside a multiCall carry a `traceback` unless they are a task's stored fault;
 * - build() accepts any source; a source that is not an SCM URL (git+file://...) is taken as an
 *   uploaded SRPM path, and a non-scratch build from one fails in the task by the default
 *   build_from_srpm policy (only admins) unless `buildFromSrpm: 'allow'`;
 * - the stand-in builder adds `.<sha7>` to Release for an SCM build (hello-1.0-1.dfc368f.fc40);
 * - a closed build task's result is nil, its buildArch child's names the RPMs by work-dir path;
 *   a non-scratch build becomes a build (getBuild, listBuilds, listBuildRPMs) whose RPMs are
 *   under packages/, a scratch build's RPMs under scratch/<owner>/task_<id>/, both also linked
 *   from the task's work dir; `topurl` serves all three over plain HTTP.
 */

export const FIXTURES = process.env.KOJI_FIXTURES ?? resolve(PACKAGE_ROOT, 'test/fixtures/koji');

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

type Parsed = { value?: unknown; fault?: { faultCode: number; faultString: string } };

/** A recorded response body, parsed (the fixtures of the second capture are all well-formed XML). */
export function parseResponse(xml: string): Promise<Parsed> {
  return new Promise((ok, ko) => {
    const s = new PassThrough();
    new Deserializer().deserializeMethodResponse(s, (err, value) => {
      if (err && typeof (err as { faultCode?: number }).faultCode === 'number') ok({ fault: { faultCode: (err as { faultCode: number }).faultCode, faultString: (err as { faultString: string }).faultString } });
      else if (err) ko(err);
      else ok({ value });
    });
    s.end(xml);
  });
}

/** The recorded response of a fixture, parsed. */
export function fixtureResponse(file: string): Promise<Parsed> {
  return parseResponse(readExchange(file).body);
}

/** The request of a fixture (headers as recorded, body verbatim), for tests that replay it. */
export function fixtureRequest(file: string): { headers: Record<string, string>; body: string } {
  const text = readFileSync(join(FIXTURES, file), 'utf8');
  const request = text.slice(text.indexOf('=== REQUEST ===\n') + 16, text.indexOf('=== RESPONSE ==='));
  const split = request.indexOf('\n\n');
  const headers: Record<string, string> = {};
  for (const l of request.slice(0, split).split('\n').slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
  return { headers, body: request.slice(split + 2).replace(/\n$/, '') };
}

class Fault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
    /** false for a task's stored fault (an xmlrpc Fault re-raised: multiCall gives it no traceback). */
    readonly traceback = true,
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
  /** NVRs the hub has as COMPLETE builds (with a noarch and a src RPM under packages/). */
  builds?: string[];
  /** How the task for a target ends (default close). */
  outcomes?: Record<string, TaskOutcome>;
  /** Destroy the connection of the next N requests without an answer. */
  dropConnections?: number;
  /** Carry out the next N requests, then destroy the connection without the answer. */
  loseAnswers?: number;
  /** Answer the next N requests with HTTP 503, as a hub behind a proxy does while restarting. */
  unavailable?: number;
  /** build_from_srpm: Koji's default policy (only admins; no test user is one), or one that allows it. */
  buildFromSrpm?: 'default' | 'allow';
}

interface Session {
  id: number;
  key: string;
  user: string;
  authtype: number;
  /** The callnum of the last call that changed data (the only one the hub records). */
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
  owner: string;
  files: Record<string, Buffer>;
  result?: unknown;
  fault?: Fault;
}

export interface HubBuild {
  id: number;
  nvr: string;
  name: string;
  version: string;
  release: string;
  state: number;
  taskId: number | null;
  source: string;
  rpms: Array<{ id: number; arch: string; file: string }>;
}

const FREE = 0, OPEN = 1, CLOSED = 2, CANCELED = 3, FAILED = 5;
const FINISHED = new Set([CLOSED, CANCELED, FAILED]);
/** Methods the real hub refuses without a logged-in session. */
const AUTHENTICATED = new Set(['build', 'cancelTask', 'uploadFile', 'logout']);
/** Methods that may repeat a recorded callnum (kojihub's retry whitelist). */
const RETRY_WHITELIST = new Set(['host.taskWait', 'host.taskUnwait', 'host.taskSetWait', 'host.updateHost', 'host.setBuildRootState', 'repoExpire', 'repoDelete', 'repoProblem']);
/** koji.daemon.SCM: anything else is taken as the path of an uploaded SRPM. */
const SCM_SCHEMES = ['git://', 'git+http://', 'git+https://', 'git+rsync://', 'git+ssh://', 'cvs://', 'cvs+ssh://', 'svn://', 'svn+http://', 'svn+https://', 'svn+ssh://'];

const taskDir = (id: number) => `tasks/${id % 10000}/${id}`;
const splitNvr = (nvr: string) => /^(.+)-([^-]+)-([^-]+)$/.exec(nvr)!.slice(1) as [string, string, string];

export interface HubRequest {
  path: string;
  methods: string[];
  sessionId?: string;
  callnum?: string;
  clientCertCN?: string;
}

export class KojiHub {
  url = '';
  /** Where the hub's files are served over plain HTTP (a profile's topurl). */
  topurl = '';
  /** Every XML-RPC request answered, in order. */
  readonly requests: HubRequest[] = [];
  /** Every file path asked under topurl (answered or 404), in order. */
  readonly fileRequests: string[] = [];
  readonly sessions = new Map<number, Session>();
  readonly tasks = new Map<number, Task>();
  readonly builds = new Map<number, HubBuild>();
  readonly uploads = new Map<string, Buffer>();
  dropConnections: number;
  loseAnswers: number;
  unavailable: number;
  /** The bytes of every RPM the hub makes: the real 6515-byte noarch RPM of downloadTaskOutput.rpm. */
  readonly rpmBytes: Buffer;
  private server?: http.Server;
  private files?: http.Server;
  private readonly opts: HubOptions;
  private readonly signatures: Record<string, string>;
  private readonly recorded = new Map<string, Parsed>();
  private readonly http405 = readExchange('http.get-not-allowed.txt');
  private readonly http400 = readExchange('http.empty-post.txt');
  private nextSession = 10;
  private nextTask = 1;
  private nextBuild = 1;
  private nextRpm = 1;
  /** Set by a call that changed data: the session's callnum is recorded after it. */
  private wrote = false;

  constructor(opts: HubOptions = {}) {
    this.opts = opts;
    this.dropConnections = opts.dropConnections ?? 0;
    this.loseAnswers = opts.loseAnswers ?? 0;
    this.unavailable = opts.unavailable ?? 0;
    this.signatures = JSON.parse(readFileSync(join(FIXTURES, 'hub-api-signatures.json'), 'utf8')) as Record<string, string>;
    const rpm = readExchange('downloadTaskOutput.rpm.txt').body;
    this.rpmBytes = Buffer.from(/<string>([^<]*)<\/string>/.exec(rpm)![1]!, 'base64');
  }

  async start(): Promise<this> {
    for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.txt') && !n.startsWith('http.'))) {
      this.recorded.set(f.replace(/\.txt$/, ''), await parseResponse(readExchange(f).body));
    }
    for (const nvr of this.opts.builds ?? []) this.addBuild(nvr);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = this.opts.tls
      ? https.createServer({ key: this.opts.tls.serverKey, cert: this.opts.tls.serverCert, ca: this.opts.tls.caCert, requestCert: true, rejectUnauthorized: false }, handler)
      : http.createServer(handler);
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}/kojihub`;
    this.files = http.createServer((req, res) => this.serveFile(req, res));
    await new Promise<void>((ok) => this.files!.listen(0, '127.0.0.1', ok));
    this.topurl = `http://127.0.0.1:${(this.files.address() as AddressInfo).port}/kojifiles`;
    return this;
  }

  async stop(): Promise<void> {
    for (const server of [this.server, this.files]) {
      server?.closeAllConnections();
      await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    }
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
      const t = this.newTask('build', null, null, ['git+https://src.example.org/rpms/hello.git#0123456789abcdef0123456789abcdef01234567', 'f40-candidate', { scratch: true }], 'hang', 'patchline');
      t.state = OPEN;
      return t.id;
    });
  }

  /** A COMPLETE build of `nvr` with a noarch and a src RPM under packages/ (as if built earlier). */
  addBuild(nvr: string, from: { taskId?: number; source?: string } = {}): HubBuild {
    const [name, version, release] = splitNvr(nvr);
    const rpms = ['src', 'noarch'].map((arch) => ({ id: this.nextRpm++, arch, file: `${nvr}.${arch}.rpm` }));
    const build: HubBuild = { id: this.nextBuild++, nvr, name, version, release, state: 1, taskId: from.taskId ?? null, source: from.source ?? `cli-build/0.0/${nvr}.src.rpm`, rpms };
    this.builds.set(build.id, build);
    return build;
  }

  private recordedValue(name: string): unknown {
    const r = this.recorded.get(name);
    if (!r || r.fault) throw new Error(`fixture ${name} has no value`);
    return structuredClone(r.value);
  }

  private recordedFault(name: string, fill: (s: string) => string = (s) => s): Fault {
    const f = this.recorded.get(name)?.fault;
    if (!f) throw new Error(`fixture ${name} is not a fault`);
    // a getTaskResult fault is the task's stored result (the builder's failTask): no traceback in a multiCall
    return new Fault(f.faultCode, fill(f.faultString), !name.startsWith('getTaskResult.') || name === 'getTaskResult.not-finished' || name === 'getTaskResult.canceled');
  }

  /** The file a topurl path names, as the real hub's layout has it (links from the task dir included). */
  private fileAt(path: string): Buffer | undefined {
    const work = /^work\/tasks\/\d+\/(\d+)\/([^/]+)$/.exec(path);
    if (work) return this.tasks.get(Number(work[1]))?.files[work[2]!];
    const scratch = /^scratch\/([^/]+)\/task_(\d+)\/([^/]+)$/.exec(path);
    if (scratch) {
      const root = this.tasks.get(Number(scratch[2]));
      if (root?.owner !== scratch[1] || root.state !== CLOSED || !(root.request[2] as { scratch?: boolean }).scratch) return undefined;
      return [...this.tasks.values()].find((t) => t.parent === root.id && t.method === 'buildArch' && t.files[scratch[3]!])?.files[scratch[3]!];
    }
    const pkg = /^packages\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
    if (pkg) {
      const build = [...this.builds.values()].find((b) => b.name === pkg[1] && b.version === pkg[2] && b.release === pkg[3]);
      return build?.rpms.some((r) => r.arch === pkg[4] && r.file === pkg[5]) ? this.rpmBytes : undefined;
    }
    return undefined;
  }

  private serveFile(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/kojifiles\//, '');
    this.fileRequests.push(path);
    const data = req.method === 'GET' ? this.fileAt(path) : undefined;
    if (!data) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length });
    res.end(data);
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
      if (this.loseAnswers > 0) {
        this.loseAnswers -= 1;
        req.socket.destroy();
        return;
      }
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
      const session = this.checkSession(req.headers, method);
      this.wrote = false;
      const value = path.endsWith('/ssllogin') ? this.sslLogin(clientCertCN) : this.dispatch(method, params, session, true);
      // the callnum is stored with the call's commit: only a call that changed data records it
      if (session && this.wrote && req.headers['koji-session-callnum'] !== undefined) session.callnum = Number(req.headers['koji-session-callnum']);
      send(200, 'text/xml', serializeMethodResponse(value));
    } catch (err) {
      if (!(err instanceof Fault)) throw err;
      send(200, 'text/xml', serializeFault({ faultCode: err.faultCode, faultString: err.faultString }));
    }
  }

  /** Session headers, checked before the method runs (kojihub auth.Session). */
  private checkSession(headers: http.IncomingHttpHeaders, method: string): Session | undefined {
    const id = headers['koji-session-id'];
    if (id === undefined) return undefined;
    const session = this.sessions.get(Number(id));
    if (!session || session.key !== headers['koji-session-key']) throw this.recordedFault('getLoggedInUser.fault.bad-session');
    if (session.expired) throw new Fault(1007, `session "${session.id}" has expired`);
    if (headers['koji-session-callnum'] === undefined || session.callnum === undefined) return session;
    const callnum = Number(headers['koji-session-callnum']);
    if (callnum < session.callnum) throw this.recordedFault('callnum.lower-after-write', () => `${session.callnum} > ${callnum} (session ${session.id})`);
    if (callnum === session.callnum && !RETRY_WHITELIST.has(method)) throw this.recordedFault('callnum.repeat-after-write', () => `unable to retry call ${callnum} (method ${method}) for session ${session.id}`);
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

  private multiCall(calls: Array<{ methodName: string; params: unknown[] }>, session: Session | undefined): unknown[] {
    const traceback = ((this.recordedValue('multiCall') as unknown[])[2] as { traceback: string[] }).traceback;
    return calls.map((c) => {
      try {
        return [this.dispatch(c.methodName, c.params, session, false)];
      } catch (err) {
        if (!(err instanceof Fault)) throw err;
        return { faultCode: err.faultCode, faultString: err.faultString, ...(err.traceback ? { traceback } : {}) };
      }
    });
  }

  private dispatch(method: string, params: unknown[], session: Session | undefined, top: boolean): unknown {
    if (method === 'multiCall' && top) return this.multiCall(params[0] as Array<{ methodName: string; params: unknown[] }>, session);
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
        const build = this.findBuild(args[0]);
        return build ? this.buildStruct(build, 'getBuild.by-task-result') : null;
      }
      case 'listBuilds': {
        const [, , taskID, , state, , source] = args as [unknown, unknown, number | null, unknown, number | null, unknown, string | null];
        return [...this.builds.values()]
          .filter((b) => (taskID == null || b.taskId === taskID) && (state == null || b.state === state) && (source == null || b.source.toLowerCase() === source.toLowerCase()))
          .map((b) => this.buildStruct(b, 'listBuilds.by-task-id'));
      }
      case 'listBuildRPMs': {
        const build = this.findBuild(args[0]);
        if (!build) throw new Fault(1000, `No such build: ${JSON.stringify(args[0])}`);
        const [src, bin] = this.recordedValue('listBuildRPMs.by-build-id') as Array<Record<string, unknown>>;
        return build.rpms.map((r) => ({ ...(r.arch === 'src' ? src : bin), id: r.id, arch: r.arch, build_id: build.id, name: build.name, version: build.version, release: build.release, nvr: build.nvr, size: this.rpmBytes.length }));
      }
      case 'build':
        return this.build(args, session!);
      case 'uploadFile':
        return this.uploadFile(args);
      case 'getTaskInfo':
        return this.taskInfo(args[0]);
      case 'getTaskChildren':
        return [...this.tasks.values()].filter((t) => t.parent === Number(args[0])).map((t) => this.taskStruct(t, false));
      case 'getTaskResult':
        return this.taskResult(Number(args[0]));
      case 'listTaskOutput':
        return this.taskOutput(Number(args[0]), args[1] === true, args[2] === true);
      case 'downloadTaskOutput': {
        const [id, name, offset, size] = args as [number, string, number | undefined, number | undefined];
        const data = this.tasks.get(id)?.files[name];
        if (!data) throw this.recordedFault('downloadTaskOutput.no-file', () => `no file "${name}" output by task ${id}`);
        const from = offset ?? 0;
        return data.subarray(from, size === undefined || size < 0 ? undefined : from + size).toString('base64');
      }
      case 'cancelTask': {
        for (const t of this.tasks.values()) {
          if ((t.id === Number(args[0]) || t.parent === Number(args[0])) && !FINISHED.has(t.state)) {
            t.state = CANCELED;
            this.wrote = true;
          }
        }
        return null;
      }
      default:
        throw new Error(`the test hub does not implement ${method}`);
    }
  }

  private findBuild(ref: unknown): HubBuild | undefined {
    if (typeof ref === 'number') return this.builds.get(ref);
    return [...this.builds.values()].find((b) => b.nvr === String(ref));
  }

  private buildStruct(b: HubBuild, fixture: string): Record<string, unknown> {
    const s = this.recordedValue(fixture) as Record<string, unknown> | Array<Record<string, unknown>>;
    const base = Array.isArray(s) ? s[0]! : s;
    return {
      ...base,
      ...('id' in base ? { id: b.id } : {}),
      build_id: b.id,
      nvr: b.nvr,
      name: b.name,
      package_name: b.name,
      version: b.version,
      release: b.release,
      state: b.state,
      task_id: b.taskId,
      source: b.source,
      extra: { source: { original_url: b.source } },
    };
  }

  private build(args: unknown[], session: Session): number {
    const [src, target, opts, priority] = args as [string, string, Record<string, unknown> | null, number | null];
    if (typeof priority === 'number' && priority < 0) throw this.recordedFault('build.negative-priority');
    const outcome = (this.opts.targets ?? ['f40-candidate']).includes(target) ? (this.opts.outcomes?.[target] ?? 'close') : 'fail';
    this.wrote = true;
    return this.newTask('build', null, null, [src, target, opts ?? {}], outcome, session.user).id;
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

  private newTask(method: string, parent: number | null, label: string | null, request: unknown[], outcome: TaskOutcome, owner: string): Task {
    const t: Task = { id: this.nextTask++, method, parent, label, state: FREE, request, outcome, step: 0, owner, files: {} };
    this.tasks.set(t.id, t);
    return t;
  }

  /** The NVR the stand-in builder makes: an SCM build's gets `.<sha7>` before the dist; an SRPM's is its file name. */
  private nvrOf(root: Task): string {
    const [src, target] = root.request as [string, string];
    if (!SCM_SCHEMES.some((s) => src.startsWith(s))) return src.split('/').pop()!.replace(/\.src\.rpm$/, '');
    const dist = /^f(\d+)-/.exec(target) ? `.fc${/^f(\d+)-/.exec(target)![1]}` : '';
    return `hello-1.0-1.${src.slice(src.indexOf('#') + 1, src.indexOf('#') + 8)}${dist}`;
  }

  private failTask(t: Task, fault: Fault): void {
    t.state = FAILED;
    t.fault = new Fault(fault.faultCode, fault.faultString, false);
  }

  /** What the builder does first: the policy and source checks, then the SRPM from SCM, then the buildArch child. */
  private startTask(root: Task): void {
    const [src, , opts] = root.request as [string, string, { scratch?: boolean }];
    const scratch = opts.scratch === true;
    if (!SCM_SCHEMES.some((s) => src.startsWith(s))) {
      // asserted by the builder for non-scratch builds from a non-SCM source (koji's default: admins only)
      if (!scratch && this.opts.buildFromSrpm !== 'allow') return this.failTask(root, this.recordedFault('getTaskResult.srpm.non-scratch.policy-denied'));
      if (!this.uploads.has(src)) return this.failTask(root, this.recordedFault('getTaskResult.scm.git-file-scheme', (s) => s.replace(/'[^']*'$/, `'<kojidir>/work/${src}'`)));
    } else if (!src.includes('#')) {
      return this.failTask(root, this.recordedFault('getTaskResult.scm-no-fragment'));
    } else {
      const srpm = this.newTask('buildSRPMFromSCM', root.id, 'srpm', [src], 'close', root.owner);
      const file = `${this.nvrOf(root)}.src.rpm`;
      srpm.files = { [file]: this.rpmBytes, 'build.log': Buffer.from('srpm\n') };
      srpm.result = { ...(this.recordedValue('getTaskResult.buildSRPMFromSCM') as object), srpm: `${taskDir(srpm.id)}/${file}`, logs: [`${taskDir(srpm.id)}/build.log`], source: { source: src, url: src } };
      srpm.state = CLOSED;
    }
    const nvr = this.nvrOf(root);
    const existing = [...this.builds.values()].find((b) => b.nvr === nvr);
    if (!scratch && existing) {
      return this.failTask(root, this.recordedFault('getTaskResult.duplicate-nvr', (s) => s.replace(/^Build already exists \(id=\d+/, `Build already exists (id=${existing.id}`).replace(/'release': '[^']*'/, `'release': '${existing.release}'`)));
    }
    this.newTask('buildArch', root.id, 'noarch', [], root.outcome, root.owner);
  }

  /** One scenario step of a root task and its children, taken when the root is polled. */
  private advance(root: Task): void {
    if (root.parent !== null || FINISHED.has(root.state) || root.outcome === 'hang') return;
    root.step += 1;
    const child = [...this.tasks.values()].find((t) => t.parent === root.id && t.method === 'buildArch');
    if (root.step === 1) {
      root.state = OPEN;
      this.startTask(root);
    } else if (root.step === 2 && child) {
      child.state = OPEN;
    } else if (root.step >= 3 && child) {
      const buildLog = Buffer.from(String(this.recordedValue('downloadTaskOutput.build.log')), 'base64');
      if (root.outcome === 'fail') {
        child.files = { 'build.log': Buffer.concat([buildLog, Buffer.from('error: Bad exit status from /var/tmp/rpm-tmp (%build)\n')]), 'root.log': Buffer.from('DEBUG util.py: child return code was: 0\n') };
        this.failTask(child, this.recordedFault('getTaskResult.failed'));
        this.failTask(root, this.recordedFault('getTaskResult.failed'));
        return;
      }
      const nvr = this.nvrOf(root);
      const rpm = `${nvr}.noarch.rpm`;
      child.files = { 'build.log': buildLog, 'root.log': Buffer.from('root\n'), [rpm]: this.rpmBytes };
      const dir = taskDir(child.id);
      child.result = { ...(this.recordedValue('getTaskResult.buildArch.scratch') as object), rpms: [`${dir}/${rpm}`], srpms: [], logs: [`${dir}/build.log`, `${dir}/root.log`] };
      child.state = CLOSED;
      root.state = CLOSED;
      root.result = null;
      if (!(root.request[2] as { scratch?: boolean }).scratch) this.addBuild(nvr, { taskId: root.id, source: String(root.request[0]) });
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
    if (t.state === FAILED) throw t.fault ?? this.recordedFault('getTaskResult.failed');
    if (t.state === CANCELED) throw this.recordedFault('getTaskResult.canceled', () => `Task ${id} is canceled`);
    return t.result ?? null;
  }

  /** listTaskOutput: names; with stat, each file's stat (st_size a string, as the hub sends it); with all_volumes, its volumes. */
  private taskOutput(id: number, stat: boolean, allVolumes: boolean): unknown {
    const files = Object.entries(this.tasks.get(id)?.files ?? {});
    if (!stat && !allVolumes) return files.map(([name]) => name);
    const template = Object.values(this.recordedValue('listTaskOutput.buildArch.stat') as Record<string, Record<string, unknown>>)[0]!;
    return Object.fromEntries(files.map(([name, data]) => [name, stat ? { ...template, st_size: String(data.length) } : ['DEFAULT']]));
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
