/**
 * What a real Koji 1.35.3 hub showed (issue 18, items 12-19), against the test hub extended with
 * the second capture's fixtures (test/fixtures/koji, README "Second capture"): RPMs fetched into
 * the run dir (downloadTaskOutput in blocks, or topurl), builds Koji already has, the NVR Koji
 * built from an SCM URL, the SCM URL schemes, the build_from_srpm policy, scratch RPMs, one-line
 * messages naming platform and task, and the hub's callnum and multiCall rules.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/core/config.js';
import { PatchlineError } from '../../src/core/errors.js';
import { executeStep } from '../../src/core/step.js';
import { submitBuild } from '../../src/koji/api.js';
import { downloadTaskFile, downloadUrl } from '../../src/koji/files.js';
import { loadKojiProfile } from '../../src/koji/profile.js';
import { KojiSession } from '../../src/koji/session.js';
import { callXmlRpc } from '../../src/koji/transport.js';
import { kwargs } from '../../src/koji/values.js';
import type { PublishResult } from '../../src/publish/types.js';
import { KojiHub, fixtureRequest, fixtureResponse, makeTestPki, parseResponse, type HubOptions, type TestPki } from '../support/koji-hub.js';
import { FEDORA_40, buildStep, kojiFixture, kojiIni } from '../support/koji-world.js';
import type { PackageFixture, PackageOptions } from '../support/rpm-fixtures.js';

let pki: TestPki;
let root: string;
const hubs: KojiHub[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'patchline-koji-real-'));
  pki = makeTestPki(root);
});
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.stop();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A hub with Koji's default policies unless told otherwise. */
async function startHub(opts: HubOptions = {}): Promise<KojiHub> {
  const hub = await new KojiHub({ tls: pki, users: { patchline: 'sekrit' }, targets: ['f40-candidate', 'f41-candidate'], ...opts }).start();
  hubs.push(hub);
  return hub;
}

function world(hub: KojiHub, opts: PackageOptions & { topurl?: boolean } = {}): PackageFixture {
  return kojiFixture(hub, pki, { platforms: [FEDORA_40], ...opts });
}

const SCM = { submit: 'scm', scmUrl: 'git+https://src.example.org/{repo}.git#{sha}' } as const;
const RPMS = 'build/hello_master_say-more-v1/fedora-40/rpms';

function session(hub: KojiHub, opts: { topurl?: boolean; retries?: number } = {}): KojiSession {
  const dir = mkdtempSync(join(root, 'ini-'));
  return new KojiSession({ profile: loadKojiProfile('hub', [kojiIni(dir, hub, pki, opts)]), retries: opts.retries ?? 3, retryDelayMs: 10 });
}

/** Poll a root task (the hub advances its scenario on each getTaskInfo) until it is finished. */
async function runTask(s: KojiSession, id: number): Promise<void> {
  for (let i = 0; i < 10; i++) if ([2, 3, 5].includes(((await s.call('getTaskInfo', id)) as { state: number }).state)) return;
  throw new Error(`task ${id} did not finish`);
}

async function publishStep(f: PackageFixture, runDir = f.runDir): Promise<{ code: number; result: PublishResult }> {
  const code = await executeStep('publish', { config: f.configFile, runDir, quiet: true });
  return { code, result: JSON.parse(readFileSync(join(runDir, 'publish.json'), 'utf8')) as PublishResult };
}

describe('12: a Koji build\'s RPMs become files of the run dir', () => {
  test('without topurl they come through the hub (downloadTaskOutput in blocks, size from listTaskOutput), and publish takes them like a local build\'s', async () => {
    const hub = await startHub({ buildFromSrpm: 'allow' });
    const f = world(hub, { topurl: false });
    const { code, result } = await buildStep(f);
    expect(code).toBe(0);
    const b = result.builds[0]!;
    const nvr = `hello-1.0-0.20261121100000.git${f.sha.slice(0, 7)}.fc40`;
    expect(b).toMatchObject({ state: 'built', nvr, rpms: [`${RPMS}/${nvr}.noarch.rpm`] });
    expect(b.message).toBeUndefined();
    expect(readFileSync(join(f.runDir, b.rpms[0]!))).toEqual(hub.rpmBytes);
    // one block of data, then the empty block that ends koji's own read loop (fixtures .rpm, .rpm.eof)
    expect(hub.methodCounts().downloadTaskOutput).toBe(2);
    expect(hub.fileRequests).toEqual([]);
    const published = await publishStep(f);
    expect(published.code).toBe(0);
    expect(published.result.repos[0]).toMatchObject({ platform: 'fedora-40', status: 'published', added: [`${nvr}.noarch.rpm`] });
    // the RPM of the recorded exchange (downloadTaskOutput.rpm): its header says what it is
    expect(published.result.repos[0]!.packages.map((p) => `${p.name}-${p.version}-${p.release}.${p.arch}`)).toEqual(['hello-1.0-1.2bda01b.fc40.noarch']);
  });

  test('a file whose size is not what Koji says is refused, and no file is left', async () => {
    const hub = await startHub();
    const s = session(hub);
    await s.login();
    const id = await submitBuild(s, 'git+https://src.example.org/rpms/hello.git#0123456789abcdef0123456789abcdef01234567', 'f40-candidate', { scratch: true });
    await runTask(s, id);
    const arch = [...hub.tasks.values()].find((t) => t.parent === id && t.method === 'buildArch')!;
    const name = Object.keys(arch.files).find((n) => n.endsWith('.noarch.rpm'))!;
    const dest = join(mkdtempSync(join(root, 'dl-')), name);
    await expect(downloadTaskFile(s, arch.id, name, dest, hub.rpmBytes.length + 1)).rejects.toThrow(`Koji task ${arch.id} output ${name}: got ${hub.rpmBytes.length} bytes, Koji says the file has ${hub.rpmBytes.length + 1}`);
    await expect(downloadUrl(`${hub.topurl}/work/tasks/${arch.id}/${arch.id}/${name}`, dest, { expected: 10 })).rejects.toThrow(/got 6515 bytes, Koji says the file has 10$/);
    expect([existsSync(dest), existsSync(`${dest}.part`)]).toEqual([false, false]);
    await downloadTaskFile(s, arch.id, name, dest, hub.rpmBytes.length);
    expect(readFileSync(dest)).toEqual(hub.rpmBytes);
  });
});

describe('13: a build Koji already has', () => {
  test('with topurl: nothing is submitted, its RPMs come from packages/ (getBuild, listBuildRPMs) and are published', async () => {
    const hub = await startHub();
    const f = world(hub);
    const nvr = `hello-1.0-0.20261121100000.git${f.sha.slice(0, 7)}.fc40`;
    const build = hub.addBuild(nvr);
    const { code, result } = await buildStep(f);
    expect(code).toBe(0);
    expect(result.builds[0]).toMatchObject({ state: 'skipped', nvr, rpms: [`${RPMS}/${nvr}.noarch.rpm`], message: `fedora-40: Koji already has ${nvr} (build ${build.id}): its RPMs were downloaded, not built again` });
    expect(hub.fileRequests).toEqual([`packages/hello/1.0/0.20261121100000.git${f.sha.slice(0, 7)}.fc40/noarch/${nvr}.noarch.rpm`]);
    expect(hub.methodCounts()).toMatchObject({ getBuild: 1, listBuildRPMs: 1 });
    expect(hub.methodCounts().build).toBeUndefined();
    const published = await publishStep(f);
    expect(published.result.repos[0]).toMatchObject({ status: 'published', added: [`${nvr}.noarch.rpm`] });
  });

  test('without topurl: the build fails with one line asking for topurl (an old build\'s task output cannot be counted on)', async () => {
    const hub = await startHub();
    const f = world(hub, { topurl: false });
    const nvr = `hello-1.0-0.20261121100000.git${f.sha.slice(0, 7)}.fc40`;
    const build = hub.addBuild(nvr);
    const { code, result } = await buildStep(f);
    expect(code).toBe(1);
    const b = result.builds[0]!;
    expect(b).toMatchObject({ state: 'failed', rpms: [], error: { code: 'EKOJI' } });
    expect(b.message).toBe(`fedora-40: Koji already has ${nvr} (build ${build.id}), but its RPMs cannot be fetched: profile [hub] has no topurl to download the RPMs of Koji build ${nvr} (${build.id}) from: add topurl (where Koji serves its packages/ dir) to the profile`);
    expect(hub.methodCounts().build).toBeUndefined();
  });
});

describe('14: an SCM build records the NVR Koji built', () => {
  test('from listBuilds(taskID) and getBuild, and a later run finds it by its source: skipped, not built twice', async () => {
    const hub = await startHub();
    const f = world(hub, { build: SCM });
    const first = await buildStep(f);
    const kojiNvr = `hello-1.0-1.${f.sha.slice(0, 7)}.fc40`;
    // the spec says hello-1.0-1.fc40; the builder added the commit to Release
    expect(first.result.builds[0]).toMatchObject({ state: 'built', nvr: kojiNvr, rpms: [`${RPMS}/${kojiNvr}.noarch.rpm`] });
    expect(hub.methodCounts()).toMatchObject({ listBuilds: 2, getBuild: 1 });
    // the run dir is gone (RPMs lost): the next run takes the same commit again
    const again = join(f.stateDir, 'runs', '20261122T100000Z');
    mkdirSync(again, { recursive: true });
    copyFileSync(join(f.runDir, 'apply.json'), join(again, 'apply.json'));
    rmSync(join(f.runDir, 'build'), { recursive: true });
    const second = await buildStep(f, again);
    expect(second.code).toBe(0);
    expect(second.result.builds[0]).toMatchObject({ state: 'skipped', nvr: kojiNvr, rpms: [`${RPMS}/${kojiNvr}.noarch.rpm`], message: expect.stringContaining(`Koji already has ${kojiNvr}`) });
    expect(existsSync(join(again, second.result.builds[0]!.rpms[0]!))).toBe(true);
    expect(hub.methodCounts().build).toBe(1);
    expect(hub.builds.size).toBe(1);
  });
});

describe('15: build.scmUrl takes only the git URL schemes Koji builds from', () => {
  const dir = () => mkdtempSync(join(root, 'cfg-'));
  const load = (scmUrl: string) => {
    const file = join(dir(), 'patchline.yaml');
    const config = {
      sources: [{ type: 'mbox', name: 'list', path: 'list.mbox' }],
      repos: { q: { url: 'https://example.org/q.git', branches: ['master'] } },
      platforms: [{ name: 'fedora-40', builder: 'koji', target: 'f40-candidate' }],
      build: { submit: 'scm', scmUrl },
    };
    writeFileSync(file, stringify(config));
    return loadConfig(file);
  };
  const refusal = (scmUrl: string): string => {
    let err: unknown;
    try {
      load(scmUrl);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchlineError);
    expect((err as PatchlineError).code).toBe('ECONFIG');
    expect((err as PatchlineError).toLine()).not.toMatch(/\n/);
    return (err as PatchlineError).message;
  };

  test('git+file:// (read by Koji as an uploaded SRPM path) and other schemes are refused', () => {
    expect(refusal('git+file:///srv/git/{repo}.git#{sha}')).toContain(
      'build.scmUrl: "git+file:///srv/git/{repo}.git#{sha}": Koji builds from git://, git+http://, git+https://, git+rsync://, git+ssh:// URLs only, and reads a git+file:// source as the path of an uploaded SRPM',
    );
    expect(refusal('https://src.example.org/{repo}.git#{sha}')).toContain('build.scmUrl: "https://src.example.org/{repo}.git#{sha}": Koji builds from git://');
    expect(refusal('/srv/git/{repo}.git#{sha}')).toContain('build.scmUrl: "/srv/git/{repo}.git#{sha}": Koji builds from git://, git+http://, git+https://, git+rsync://, git+ssh:// URLs only (in');
  });

  test('the commit must be the fragment', () => {
    expect(refusal('git+https://src.example.org/{repo}.git?rev={sha}')).toContain('build.scmUrl: "git+https://src.example.org/{repo}.git?rev={sha}": Koji needs the commit in the URL\'s fragment, e.g. ...#{sha}');
  });

  test('the five git schemes load', () => {
    for (const scheme of ['git://', 'git+http://', 'git+https://', 'git+rsync://', 'git+ssh://']) {
      expect(load(`${scheme}src.example.org/{repo}.git#{sha}`).config.build?.scmUrl).toBe(`${scheme}src.example.org/{repo}.git#{sha}`);
    }
  });

  test('the test hub, like the real one, accepts a git+file:// build and fails it in the task as an SRPM path', async () => {
    const hub = await startHub();
    const s = session(hub);
    await s.login();
    const url = 'git+file:///srv/git/hello.git#0123456789abcdef0123456789abcdef01234567';
    const id = await submitBuild(s, url, 'f40-candidate', { scratch: true });
    await runTask(s, id);
    await expect(s.call('getTaskResult', id)).rejects.toThrow(`FileNotFoundError: [Errno 2] No such file or directory: '<kojidir>/work/${url}'`);
  });
});

describe('16: a non-scratch build from an uploaded SRPM under Koji\'s default build_from_srpm policy', () => {
  test('fails in the task (the hub accepted it) with one line naming the policy and what to ask the admins for', async () => {
    const hub = await startHub();
    const f = world(hub);
    const { code, result } = await buildStep(f);
    expect(code).toBe(1);
    const b = result.builds[0]!;
    expect(b.state).toBe('failed');
    expect(b.message).toBe(
      `fedora-40: Koji task ${b.taskId} failed: ActionNotAllowed (1004): policy violation (build_from_srpm): Only admin can do this via default policy; Koji's build_from_srpm policy refuses non-scratch builds from an uploaded SRPM for patchline: ask the Koji admins to allow build_from_srpm for patchline, or build from git (build.submit: scm) or as scratch builds (build.scratch)`,
    );
    expect(hub.methodCounts().build).toBe(1);
  });

  test('a scratch build from the same SRPM is not affected', async () => {
    const hub = await startHub();
    const f = world(hub, { build: { scratch: true } });
    const { code, result } = await buildStep(f);
    expect(code).toBe(0);
    expect(result.builds[0]!.state).toBe('built');
  });
});

describe('17: a scratch build\'s RPMs, moved by Koji to scratch/<user>/task_<id>/', () => {
  test('are taken by the paths of the buildArch task\'s result: from topurl work/..., which links to scratch/...', async () => {
    const hub = await startHub();
    const f = world(hub, { build: { ...SCM, scratch: true } });
    const { code, result } = await buildStep(f);
    expect(code).toBe(0);
    const nvr = `hello-1.0-1.${f.sha.slice(0, 7)}.fc40`;
    const rootTask = [...hub.tasks.values()].find((t) => t.parent === null)!;
    const arch = [...hub.tasks.values()].find((t) => t.parent === rootTask.id && t.method === 'buildArch')!;
    expect(result.builds[0]).toMatchObject({ state: 'built', nvr, rpms: [`${RPMS}/${nvr}.noarch.rpm`] });
    expect(hub.fileRequests).toEqual([`work/tasks/${arch.id}/${arch.id}/${nvr}.noarch.rpm`]);
    const moved = await fetch(`${hub.topurl}/scratch/patchline/task_${rootTask.id}/${nvr}.noarch.rpm`);
    expect(Buffer.from(await moved.arrayBuffer())).toEqual(readFileSync(join(f.runDir, result.builds[0]!.rpms[0]!)));
    // a scratch build makes no Koji build: nothing to look up
    expect(hub.methodCounts().listBuilds).toBe(1); // the "already built" check only
  });

  test('without topurl, through the hub from the buildArch task', async () => {
    const hub = await startHub();
    const f = world(hub, { topurl: false, build: { ...SCM, scratch: true } });
    const { code, result } = await buildStep(f);
    expect(code).toBe(0);
    expect(readFileSync(join(f.runDir, result.builds[0]!.rpms[0]!))).toEqual(hub.rpmBytes);
    expect(hub.methodCounts()).toMatchObject({ downloadTaskOutput: 2 });
  });
});

describe('18: a failed task\'s message names the platform and the task', () => {
  test('fedora-40: Koji task N failed: BuildError (1005): ...', async () => {
    const hub = await startHub({ outcomes: { 'f40-candidate': 'fail' } });
    const f = world(hub, { build: SCM });
    const { result } = await buildStep(f);
    const b = result.builds[0]!;
    const arch = [...hub.tasks.values()].find((t) => t.parent === b.taskId && t.method === 'buildArch')!;
    expect(b.message).toBe(`fedora-40: Koji task ${arch.id} failed: BuildError (1005): error building package (arch noarch), mock exited with status 1; see build.log or root.log for more information`);
  });
});

describe('19: callnums and multiCall faults as the real hub has them', () => {
  /** POST a recorded request body as this session (its id and key, the recorded callnum). */
  async function replay(hub: KojiHub, file: string, auth: { id: number; key: string }): Promise<{ value?: unknown; fault?: { faultCode: number; faultString: string } }> {
    const { headers, body } = fixtureRequest(file);
    const res = await fetch(hub.url, { method: 'POST', body, headers: { 'Content-Type': 'text/xml', 'Koji-Session-Id': String(auth.id), 'Koji-Session-Key': auth.key, 'Koji-Session-Callnum': headers['koji-session-callnum']! } });
    return parseResponse(await res.text());
  }

  test('the test hub answers the recorded call sequence as the real hub did', async () => {
    const hub = await new KojiHub({ users: { patchline: 'sekrit' } }).start();
    hubs.push(hub);
    const login = (await callXmlRpc({ url: new URL(hub.url), timeoutMs: 5000 }, 'login', ['patchline', 'sekrit', kwargs({ opts: null })])) as Record<string, unknown>;
    const auth = { id: Number(login['session-id']), key: String(login['session-key']) };
    const sameAs = async (file: string) => {
      const got = await replay(hub, file, auth);
      const want = await fixtureResponse(file);
      if (want.fault) expect(got.fault).toEqual({ faultCode: want.fault.faultCode, faultString: want.fault.faultString.replace(/session 4\b/, `session ${auth.id}`) });
      else expect(got.fault).toBeUndefined();
      return got;
    };
    // after read-only calls nothing is recorded: the same callnum (5, 5) and a lower one (4) go
    await sameAs('callnum.repeat-after-read.first.txt');
    await sameAs('callnum.repeat-after-read.txt');
    await sameAs('callnum.lower-after-read.txt');
    // a build (data changed) records its callnum 20: 20 again is RetryError, 19 SequenceError
    expect(typeof (await sameAs('callnum.repeat-after-write.first.txt')).value).toBe('number');
    await sameAs('callnum.repeat-after-write.txt');
    await sameAs('callnum.lower-after-write.txt');
    expect([...hub.tasks.values()].filter((t) => t.method === 'build')).toHaveLength(1);
  });

  test('a fault inside a multiCall has a traceback, a task\'s stored fault has none; the client reads both', async () => {
    const hub = await startHub({ outcomes: { 'f41-candidate': 'hang' } });
    const s = session(hub);
    await s.login();
    // a non-scratch build from an SRPM path (the policy fails it) and a canceled build, as in the recorded multiCalls
    const denied = await submitBuild(s, 'cli-build/1796157944.917706.qhrcDoGP/hello-1.0-1.fc40.src.rpm', 'f40-candidate', {});
    await runTask(s, denied);
    const canceled = await submitBuild(s, 'git+https://src.example.org/rpms/hello.git#0123456789abcdef0123456789abcdef01234567', 'f41-candidate', { scratch: true });
    await s.call('cancelTask', canceled);
    const raw = (await s.call('multiCall', [
      { methodName: 'getTaskResult', params: [canceled] },
      { methodName: 'getTaskResult', params: [denied] },
    ])) as Array<Record<string, unknown>>;
    const recordedWith = ((await fixtureResponse('multiCall.txt')).value as Array<Record<string, unknown>>)[2]!;
    const recordedWithout = ((await fixtureResponse('multiCall.fault-no-traceback.txt')).value as Array<Record<string, unknown>>)[2]!;
    expect(Object.keys(raw[0]!).sort()).toEqual(Object.keys(recordedWith).sort());
    expect(Object.keys(raw[1]!).sort()).toEqual(Object.keys(recordedWithout).sort());
    expect(raw[0]).toMatchObject({ faultCode: 1000, faultString: `Task ${canceled} is canceled`, traceback: recordedWith.traceback });
    expect(raw[1]).toEqual(recordedWithout);
    const results = await s.multiCall([
      { methodName: 'getTaskResult', params: [canceled] },
      { methodName: 'getTaskResult', params: [denied] },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.details?.faultCode))).toEqual([1000, 1004]);
  });

  test('the client gives every attempt its own callnum: a retried call the hub already carried out is accepted', async () => {
    const hub = await startHub({ outcomes: { 'f40-candidate': 'hang' } });
    const s = session(hub);
    await s.login();
    const id = await submitBuild(s, 'git+https://src.example.org/rpms/hello.git#0123456789abcdef0123456789abcdef01234567', 'f40-candidate', { scratch: true });
    // the hub cancels, then its answer is lost: the retry comes with the next callnum (the same one would be RetryError 1009)
    hub.loseAnswers = 1;
    await expect(s.call('cancelTask', id)).resolves.toBeNull();
    const cancels = hub.requests.filter((r) => r.methods[0] === 'cancelTask').map((r) => Number(r.callnum));
    expect(cancels).toHaveLength(2);
    expect(cancels[1]).toBe(cancels[0]! + 1);
    expect(hub.tasks.get(id)!.state).toBe(3);
    // a read whose answer is lost is retried too
    hub.loseAnswers = 1;
    expect(await s.call('getLoggedInUser')).toMatchObject({ name: 'patchline' });
    // a build whose answer is lost is not sent again (it may have made a task): one task, and the session goes on
    hub.loseAnswers = 1;
    await expect(submitBuild(s, 'git+https://src.example.org/rpms/hello.git#89abcdef0123456789abcdef0123456789abcdef', 'f40-candidate', { scratch: true })).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect([...hub.tasks.values()].filter((t) => t.method === 'build')).toHaveLength(2);
    expect(await s.call('getAPIVersion')).toBe(1);
  });
});
