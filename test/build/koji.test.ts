import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeStep } from '../../src/core/step.js';
import { PatchlineError } from '../../src/core/errors.js';
import { PACKAGE_ROOT } from '../../src/core/paths.js';
import type { BuildResult } from '../../src/build/types.js';
import { loadKojiProfile } from '../../src/koji/profile.js';
import { KojiSession } from '../../src/koji/session.js';
import { callXmlRpc } from '../../src/koji/transport.js';
import { uploadFile } from '../../src/koji/upload.js';
import { KojiHub, makeTestPki, type HubOptions, type TestPki } from '../support/koji-hub.js';
import { FEDORA_40, buildStep, kojiFixture as kojiWorld, kojiIni } from '../support/koji-world.js';
import type { PackageFixture, PackageOptions } from '../support/rpm-fixtures.js';

let pkiDir: string;
let pki: TestPki;
const hubs: KojiHub[] = [];
const dirs: string[] = [];

beforeAll(() => {
  pkiDir = mkdtempSync(join(tmpdir(), 'patchline-pki-'));
  pki = makeTestPki(pkiDir);
});
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.stop();
});
afterAll(() => {
  for (const d of [pkiDir, ...dirs]) rmSync(d, { recursive: true, force: true });
});

/** A hub whose admins allow build_from_srpm (most tests here build non-scratch from an SRPM). */
async function startHub(opts: HubOptions & { https?: boolean } = {}): Promise<KojiHub> {
  const hub = await new KojiHub({ ...(opts.https === false ? {} : { tls: pki }), users: { patchline: 'sekrit' }, targets: ['f40-candidate', 'f41-candidate'], buildFromSrpm: 'allow', ...opts }).start();
  hubs.push(hub);
  return hub;
}

function sessionFor(hub: KojiHub, profile: 'hub' | 'pw', password?: string): KojiSession {
  const dir = mkdtempSync(join(tmpdir(), 'patchline-koji-'));
  dirs.push(dir);
  return new KojiSession({ profile: loadKojiProfile(profile, [kojiIni(dir, hub, pki)]), password, retries: 3, retryDelayMs: 10 });
}

async function faultOf(p: Promise<unknown>): Promise<{ faultCode: unknown; faultClass: unknown; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PatchlineError);
  const e = err as PatchlineError;
  return { faultCode: e.details?.faultCode, faultClass: e.details?.faultClass, message: e.message };
}

describe('Koji session against the test hub', () => {
  test('SSL client-certificate login carries Koji-Session-* headers with a strictly increasing callnum', async () => {
    const hub = await startHub();
    const session = sessionFor(hub, 'hub');
    await session.login();
    const me = (await session.call('getLoggedInUser')) as Record<string, unknown>;
    expect(me).toMatchObject({ name: 'patchline', authtype: 2 });
    await session.call('getAPIVersion');
    expect(hub.requests[0]).toMatchObject({ path: '/kojihub/ssllogin', methods: ['sslLogin'], clientCertCN: 'patchline' });
    expect(hub.requests.slice(1).map((r) => r.callnum)).toEqual(['0', '1']);
    expect(new Set(hub.requests.slice(1).map((r) => r.sessionId)).size).toBe(1);
  });

  test('password login; a wrong password is AuthError 1002', async () => {
    const hub = await startHub({ https: false });
    const ok = sessionFor(hub, 'pw', 'sekrit');
    await ok.login();
    expect(await ok.call('getLoggedInUser')).toMatchObject({ name: 'patchline', authtype: 0 });
    expect(await faultOf(sessionFor(hub, 'pw', 'wrong').login())).toMatchObject({ faultCode: 1002, faultClass: 'AuthError' });
  });

  test('sslLogin without a client certificate is refused like the real hub', async () => {
    const hub = await startHub();
    const profile = { ...loadKojiProfile('hub', [kojiIni(mkdtempSync(join(tmpdir(), 'patchline-koji-')), hub, pki)]) };
    const endpoint = { url: new URL(hub.url), tls: { ca: pki.caCert }, timeoutMs: 5000 };
    expect(await faultOf(callXmlRpc(endpoint, 'sslLogin', [], {}, 'ssllogin'))).toMatchObject({ faultCode: 1002, message: expect.stringContaining('could not verify client: NONE') });
    expect(profile.authtype).toBe('ssl');
  });

  test('the hub refuses what the real one refuses', async () => {
    const hub = await startHub({ https: false });
    const endpoint = { url: new URL(hub.url), timeoutMs: 5000 };
    const src = 'git+https://src.example.org/rpms/hello.git#0123456789abcdef0123456789abcdef01234567';
    expect(await faultOf(callXmlRpc(endpoint, 'build', [src, 'f40-candidate', { scratch: true }]))).toMatchObject({ faultCode: 1004, faultClass: 'ActionNotAllowed' });
    expect(await faultOf(callXmlRpc(endpoint, 'noSuchMethod', []))).toMatchObject({ faultCode: 1000, message: expect.stringContaining('Invalid method: noSuchMethod') });
    expect(await faultOf(callXmlRpc(endpoint, 'getTaskInfo', []))).toMatchObject({ faultCode: 1019, faultClass: 'ParameterError' });
    const login = (await callXmlRpc(endpoint, 'login', ['patchline', 'sekrit', { opts: null, __starstar: true }])) as Record<string, unknown>;
    const headers = (n: number) => ({ 'Koji-Session-Id': String(login['session-id']), 'Koji-Session-Key': String(login['session-key']), 'Koji-Session-Callnum': String(n) });
    expect(await faultOf(callXmlRpc(endpoint, 'build', [src, 'f40-candidate', { scratch: true }, -1], headers(6)))).toMatchObject({ faultCode: 1004, message: expect.stringContaining('only admins') });
    expect(await faultOf(callXmlRpc(endpoint, 'getLoggedInUser', [], { ...headers(7), 'Koji-Session-Key': 'bogus' }))).toMatchObject({ faultCode: 1002 });
    const get = await fetch(hub.url);
    expect(get.status).toBe(405);
    const empty = await fetch(hub.url, { method: 'POST', body: '' });
    expect(empty.status).toBe(400);
  });

  test('concurrent callers are queued: one call at a time, callnums in order, none refused', async () => {
    const hub = await startHub();
    const session = sessionFor(hub, 'hub');
    await session.login();
    const results = await Promise.all(Array.from({ length: 6 }, () => session.call('getAPIVersion')));
    expect(results).toEqual([1, 1, 1, 1, 1, 1]);
    expect(hub.requests.slice(1).map((r) => Number(r.callnum))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('an SRPM is uploaded in chunks with offsets and checksums, then verified whole', async () => {
    const hub = await startHub({ https: false });
    const session = sessionFor(hub, 'pw', 'sekrit');
    await session.login();
    const file = join(pkiDir, 'big.src.rpm');
    const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
    writeFileSync(file, data);
    const path = await uploadFile(session, file, 1000);
    expect(path).toMatch(/^cli-build\/[\d.]+\.[0-9a-f]+\/big\.src\.rpm$/);
    expect(hub.uploads.get(path)).toEqual(data);
    expect(hub.methodCounts().uploadFile).toBe(4);
  });

  test('HTTP 503 twice is retried with backoff', async () => {
    const hub = await startHub({ unavailable: 2 });
    const session = sessionFor(hub, 'hub');
    await session.login();
    expect(await session.call('getAPIVersion')).toBe(1);
    expect(hub.unavailable).toBe(0);
  });

  test('an expired session logs in again once and the call goes through', async () => {
    const hub = await startHub();
    const session = sessionFor(hub, 'hub');
    await session.login();
    hub.expireSessions();
    expect(await session.call('getLoggedInUser')).toMatchObject({ name: 'patchline' });
    expect(hub.requests.filter((r) => r.methods[0] === 'sslLogin')).toHaveLength(2);
  });
});

interface KojiRun {
  f: PackageFixture;
  hub: KojiHub;
  code: number;
  result: BuildResult;
}

function kojiFixture(hub: KojiHub, opts: PackageOptions = {}): PackageFixture {
  const f = kojiWorld(hub, pki, opts);
  dirs.push(f.dir);
  return f;
}

async function runKoji(hubOpts: HubOptions, opts: PackageOptions = {}): Promise<KojiRun> {
  const hub = await startHub(hubOpts);
  const f = kojiFixture(hub, opts);
  return { f, hub, ...(await buildStep(f)) };
}

describe('Koji builder (build step against the test hub)', () => {
  test('one of two platforms fails: its build.log and root.log are fetched, exit 3', async () => {
    const { f, hub, code, result } = await runKoji({ outcomes: { 'f41-candidate': 'fail' } });
    expect(code).toBe(3);
    const [ok, bad] = result.builds;
    const release = `0.20261121100000.git${f.sha.slice(0, 7)}`;
    expect(ok).toMatchObject({ platform: 'fedora-40', builder: 'koji', state: 'built', nvr: `hello-1.0-${release}.fc40`, url: `https://koji.example.org/koji/taskinfo?taskID=${ok!.taskId}` });
    // the RPM was downloaded from topurl's packages/ into the run dir
    expect(ok!.rpms).toEqual([`build/hello_master_say-more-v1/fedora-40/rpms/hello-1.0-${release}.fc40.noarch.rpm`]);
    expect(readFileSync(join(f.runDir, ok!.rpms[0]!))).toEqual(hub.rpmBytes);
    expect(hub.fileRequests).toEqual([`packages/hello/1.0/${release}.fc40/noarch/hello-1.0-${release}.fc40.noarch.rpm`]);
    expect(bad).toMatchObject({ platform: 'fedora-41', state: 'failed', message: expect.stringMatching(/^fedora-41: Koji task \d+ failed: BuildError \(1005\): error building package/) });
    expect(bad!.logs.map((l) => l.split('-').pop())).toEqual(['build.log', 'root.log']);
    expect(readFileSync(join(f.runDir, bad!.logs[0]!), 'utf8')).toContain('Bad exit status');
    // every poll is one multiCall: no getTaskInfo outside it
    const polls = hub.requests.filter((r) => r.methods.includes('getTaskInfo'));
    expect(polls.length).toBeGreaterThan(1);
    expect(hub.requests.filter((r) => r.methods.length === 1 && r.methods[0] === 'getTaskInfo')).toHaveLength(0);
    // the SRPM was uploaded in chunks and verified, then built from its hub path
    const uploaded = [...hub.uploads.entries()].find(([k]) => k.endsWith(`hello-1.0-${release}.fc40.src.rpm`));
    expect(uploaded?.[1]).toEqual(readFileSync(join(f.runDir, ok!.srpm!)));
  });

  test('an NVR Koji already has is skipped, nothing submitted for it', async () => {
    const hub = await startHub();
    const f = kojiFixture(hub, { platforms: [FEDORA_40] });
    hub.addBuild(`hello-1.0-0.20261121100000.git${f.sha.slice(0, 7)}.fc40`);
    const { code, result } = await buildStep(f);
    expect(code).toBe(0);
    expect(result.builds[0]).toMatchObject({ state: 'skipped', message: expect.stringContaining('already has') });
    expect(hub.methodCounts().build).toBeUndefined();
  });

  test('SCM mode submits the pushed commit\'s URL, uploads nothing, and records the NVR Koji built', async () => {
    const { f, hub, code, result } = await runKoji({}, { platforms: [FEDORA_40], build: { submit: 'scm', scmUrl: 'git+https://src.example.org/{repo}.git#{sha}', scratch: true, priority: 5 } });
    expect(code).toBe(0);
    const root = [...hub.tasks.values()].find((t) => t.parent === null)!;
    const nvr = `hello-1.0-1.${f.sha.slice(0, 7)}.fc40`;
    // the NVR of the SRPM Koji made (its builder added to Release), the RPM downloaded into the run dir
    expect(result.builds[0]).toMatchObject({ state: 'built', nvr, rpms: [`build/hello_master_say-more-v1/fedora-40/rpms/${nvr}.noarch.rpm`] });
    expect(root.request).toEqual([`git+https://src.example.org/hello.git#${f.sha}`, 'f40-candidate', { scratch: true }]);
    expect(hub.methodCounts().uploadFile).toBeUndefined();
  });

  test('a dry run submits nothing to Koji', async () => {
    const hub = await startHub();
    const f = kojiFixture(hub);
    expect(await executeStep('build', { config: f.configFile, runDir: f.runDir, quiet: true, dryRun: true })).toBe(0);
    const result = JSON.parse(readFileSync(join(f.runDir, 'build.json'), 'utf8')) as BuildResult;
    expect(result.builds.map((b) => b.state)).toEqual(['skipped', 'skipped']);
    expect(hub.requests).toEqual([]);
  });

  test('an unknown target is a clear error naming it, and nothing is submitted', async () => {
    const { hub, code, result } = await runKoji({ targets: ['f40-candidate'] });
    expect(code).toBe(1);
    expect(result.builds).toEqual([]);
    expect(hub.methodCounts()).toMatchObject({ getBuildTarget: 2 });
    expect(hub.methodCounts().build).toBeUndefined();
    expect(hub.methodCounts().uploadFile).toBeUndefined();
  });

  test('a hub that drops the connection twice is retried, then the build succeeds', async () => {
    const { code, result, hub } = await runKoji({ dropConnections: 2 }, { platforms: [{ name: 'fedora-40', builder: 'koji', target: 'f40-candidate' }], build: { retries: 3 } });
    expect(code).toBe(0);
    expect(result.builds[0]!.state).toBe('built');
    expect(hub.dropConnections).toBe(0);
  });

  test('a hub lost during the watch: build.json still names the task, exit 1', async () => {
    const hub = await startHub({ outcomes: { 'f40-candidate': 'hang' } });
    const f = kojiFixture(hub, { platforms: [{ name: 'fedora-40', builder: 'koji', target: 'f40-candidate' }], build: { retries: 1 } });
    const cut = setInterval(() => {
      if (hub.requests.some((r) => r.methods.includes('getTaskInfo'))) hub.dropConnections = 1000;
    }, 10);
    const code = await executeStep('build', { config: f.configFile, runDir: f.runDir, quiet: true });
    clearInterval(cut);
    expect(code).toBe(1);
    const result = JSON.parse(readFileSync(join(f.runDir, 'build.json'), 'utf8')) as BuildResult;
    expect(result.builds[0]).toMatchObject({ state: 'failed', taskId: 1, message: expect.stringContaining('lost track of Koji task 1') });
  });

  test('SIGTERM to the real step process cancels the tasks it started', async () => {
    const hub = await startHub({ outcomes: { 'f40-candidate': 'hang', 'f41-candidate': 'hang' } });
    const f = kojiFixture(hub);
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'dist/steps/build.js'), '--config', f.configFile, '--run-dir', f.runDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    let done = false;
    void exited.then(() => (done = true));
    while (!done && !hub.requests.some((r) => r.methods.includes('getTaskInfo'))) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(stderr).toContain('SIGTERM');
    expect(hub.methodCounts().cancelTask).toBe(2);
    const roots = [...hub.tasks.values()].filter((t) => t.parent === null);
    expect(roots.map((t) => t.state)).toEqual([3, 3]);
    const result = JSON.parse(readFileSync(join(f.runDir, 'build.json'), 'utf8')) as BuildResult;
    expect(result.builds.map((b) => b.state)).toEqual(['canceled', 'canceled']);
  });
});
