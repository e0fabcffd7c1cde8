/** What the tracking API tests share: a config with a user, a self-signed cert, servers in-process and as the CLI. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/core/config.js';
import type { ServeConfig, TrackingConfig } from '../../src/core/config-types.js';
import { localBackend } from '../../src/tracking/local-backend.js';
import { hashPassword } from '../../src/tracking/passwd.js';
import { startServer, type RunningServer } from '../../src/tracking/server.js';
import type { TrackingItemInput } from '../../src/tracking/types.js';

export const CLI = resolve('dist/src/cli.js');

const made: string[] = [];
/** A temp dir removed by removeTempDirs (call it in afterAll). */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pl-api-'));
  made.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
export const USER = 'alice';
export const PASSWORD = 'correct-Horse-battery-9';

let hash: Promise<string> | undefined;
/** A cheap hash (N=2^12) keeps the many logins of these tests fast; passwd.test.ts covers the default cost. */
export const passwordHash = (): Promise<string> => (hash ??= hashPassword(PASSWORD, { N: 2 ** 12, r: 8, p: 1 }));

/** A self-signed certificate for 127.0.0.1, made with openssl. */
export function makeCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  return { cert, key };
}

/** patchline.yaml in `dir` with a `serve:` section (alice as the user unless `serve.users` is given). */
export async function writeServeConfig(dir: string, serve: ServeConfig, tracking?: TrackingConfig): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'list.mbox'), '');
  const file = join(dir, 'patchline.yaml');
  const config = {
    stateDir: 'state',
    sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }],
    repos: { hello: { url: join(dir, 'none.git'), branches: ['main'], build: { spec: 'hello.spec' } } },
    ...(tracking ? { tracking } : {}),
    serve: { users: [{ name: USER, passwordHash: await passwordHash() }], ...serve },
  };
  writeFileSync(file, stringify(config));
  return file;
}

export interface TestServer extends RunningServer {
  /** What the server logged, one entry per line. */
  lines: string[];
  stateDir: string;
}

/** `patchline serve` in this process, on a free loopback port. */
export async function startTestServer(file: string, listen = '127.0.0.1:0'): Promise<TestServer> {
  const loaded = loadConfig(file);
  const lines: string[] = [];
  const log = { info: (l: string) => lines.push(l), warn: (l: string) => lines.push(`warning: ${l}`) };
  const server = await startServer({ loaded, backend: localBackend(loaded.stateDir), log, listen });
  return { ...server, lines, stateDir: loaded.stateDir };
}

export function item(n: number | string, extra: Partial<TrackingItemInput> = {}): TrackingItemInput {
  return { repo: `pkg${n}`, branch: 'main', packagingUrl: `https://git.example.org/rpms/pkg${n}.git`, spec: `pkg${n}.spec`, upstreamUrl: `https://git.example.org/up/pkg${n}.git`, upstreamBranch: 'master', ...extra };
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A raw request to a loopback HTTP server: status, headers and the parsed body. */
export async function raw(url: string, init: { method?: string; auth?: string; body?: string; type?: string } = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> | undefined }> {
  const headers: Record<string, string> = {};
  if (init.auth) headers.authorization = init.auth;
  if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
  const res = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The installed CLI (dist/), without blocking this process (an in-process server may answer it). */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** `patchline serve` as a process (on a free loopback port): resolves once it says where it listens. */
export function spawnServe(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not start: ${stderr}`)), 15_000);
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /listening on (\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        done({ child, url: m[1]!, stderr: () => stderr, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`serve exited ${code}: ${stderr}`));
    });
  });
}
