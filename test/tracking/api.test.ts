/**
 * The tracking REST API (`patchline serve`, src/tracking/server.ts) and its client
 * (remoteBackend): real servers on loopback, over HTTPS with a certificate made here and over
 * plain HTTP; the items land in the state dir through the same backend as the local CLI.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError } from '../../src/core/errors.js';
import { remoteBackend } from '../../src/tracking/client.js';
import { localBackend } from '../../src/tracking/local-backend.js';
import type { TrackingBackend } from '../../src/tracking/types.js';
import { PASSWORD, USER, basic, item, makeCert, raw, startTestServer, writeServeConfig, type TestServer, removeTempDirs, tempDir } from './api-support.js';

afterAll(removeTempDirs);

const strip = <T extends { createdAt?: string; updatedAt?: string }>(x: T) => ({ ...x, createdAt: undefined, updatedAt: undefined });

async function rejection(p: Promise<unknown>): Promise<PatchlineError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PatchlineError);
  return err as PatchlineError;
}

/** add, list (filtered), disable, remove, remove again (404), reviews: the server's state dir agrees at each step. */
async function crud(api: TrackingBackend, server: TestServer): Promise<void> {
  const local = localBackend(server.stateDir);
  const added = await api.add(item(1));
  expect(added).toMatchObject({ ...item(1), enabled: true });
  await api.add(item(2, { branch: 'stable', lastCommit: 'a'.repeat(40) }));
  expect((await api.list()).map((i) => `${i.repo}/${i.branch}`)).toEqual(['pkg1/main', 'pkg2/stable']);
  expect(await api.list()).toEqual(await local.list());
  expect((await api.list({ repo: 'pkg2' })).map((i) => i.lastCommit)).toEqual(['a'.repeat(40)]);
  expect(await api.list({ branch: 'nope' })).toEqual([]);
  expect((await api.setEnabled({ repo: 'pkg1', branch: 'main' }, false)).enabled).toBe(false);
  expect((await local.list({ repo: 'pkg1' }))[0]!.enabled).toBe(false);
  await api.remove({ repo: 'pkg1', branch: 'main' });
  expect((await local.list()).map((i) => i.repo)).toEqual(['pkg2']);
  const gone = await rejection(api.remove({ repo: 'pkg1', branch: 'main' }));
  expect(gone.code).toBe('ETRACK');
  expect(gone.details?.httpStatus).toBe(404);
  expect(gone.message).toMatch(/no tracking item for repo pkg1 branch main/);
  expect(gone.input).toBe(`DELETE ${server.url}/tracking?repo=pkg1&branch=main`);
  expect((await rejection(api.setEnabled({ repo: 'pkg9', branch: 'main' }, true))).details?.httpStatus).toBe(404);
  expect(await api.reviews()).toEqual([]);
}

describe('CRUD with auth', () => {
  test('over HTTPS with a self-signed certificate the client trusts by its CA file', async () => {
    const dir = tempDir();
    const { cert } = makeCert(dir);
    const server = await startTestServer(await writeServeConfig(dir, { cert: 'cert.pem', key: 'key.pem' }));
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      await crud(remoteBackend({ server: server.url, caFile: cert }, { PATCHLINE_SERVER_USER: USER, PATCHLINE_SERVER_PASSWORD: PASSWORD }), server);
      // without the CA, the certificate is refused, and the message says what to do
      const untrusted = await rejection(remoteBackend({ server: server.url }, { PATCHLINE_SERVER_USER: USER, PATCHLINE_SERVER_PASSWORD: PASSWORD }).list());
      expect(untrusted.message).toMatch(/cannot reach the tracking server: .*(SELF_SIGNED|CERT).*trust its certificate/);
    } finally {
      await server.close();
    }
  });

  test('over plain HTTP on loopback; credentials from a password file; no credential in any log line', async () => {
    const dir = tempDir();
    const server = await startTestServer(await writeServeConfig(dir, {}));
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const file = join(dir, 'password');
      writeFileSync(file, `${PASSWORD}\n`);
      await crud(remoteBackend({ server: `${server.url}/`, user: USER, passwordFile: file }, {}), server);
      expect(server.lines.length).toBeGreaterThan(8);
      for (const line of server.lines) {
        expect(line).not.toContain(PASSWORD);
        expect(line).not.toMatch(/basic|authorization/i);
        expect(line).not.toContain(basic(USER, PASSWORD).slice(6));
      }
      expect(server.lines).toContainEqual(expect.stringMatching(/^127\.0\.0\.1 DELETE \/tracking\?repo=pkg1&branch=main 204 \d+ms user=alice$/));
    } finally {
      await server.close();
    }
  });
});

describe('refusals', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(await writeServeConfig(tempDir(), { maxBodyBytes: 2048 }));
  });
  afterAll(() => server.close());

  test('401 with WWW-Authenticate for no password, a wrong one, an unknown user; reads need auth too; /healthz does not', async () => {
    for (const auth of [undefined, basic(USER, 'not-the-password-1'), basic('mallory', PASSWORD), 'Bearer abc']) {
      for (const [method, body] of [['GET', undefined], ['POST', JSON.stringify(item(1))]] as const) {
        const r = await raw(`${server.url}/tracking`, { method, auth, body });
        expect([auth, method, r.status]).toEqual([auth, method, 401]);
        expect(r.headers.get('www-authenticate')).toBe('Basic realm="patchline", charset="UTF-8"');
        expect(r.body).toEqual({ code: 'EAUTH', message: auth === undefined ? expect.stringMatching(/authentication required/) : 'wrong user name or password' });
      }
    }
    expect((await raw(`${server.url}/healthz`)).body).toEqual({ status: 'ok' });
    expect(await localBackend(server.stateDir).list()).toEqual([]);
    // the client: EAUTH, naming the user but never the password; without credentials it says which variables to set
    const wrong = await rejection(remoteBackend({ server: server.url }, { PATCHLINE_SERVER_USER: USER, PATCHLINE_SERVER_PASSWORD: 'not-the-password-1' }).add(item(1)));
    expect(wrong.code).toBe('EAUTH');
    expect(wrong.toLine()).not.toContain('not-the-password-1');
    expect(wrong.message).toMatch(/wrong user name or password \(user alice\)/);
    const none = await rejection(remoteBackend({ server: server.url }, {}).list());
    expect(none.code).toBe('EAUTH');
    expect(none.message).toMatch(/set PATCHLINE_SERVER_USER and PATCHLINE_SERVER_PASSWORD/);
  });

  test('400 naming the field for a bad body, a bad query, bad JSON; nothing stored', async () => {
    const auth = basic(USER, PASSWORD);
    const post = (body: string, type?: string) => raw(`${server.url}/tracking`, { method: 'POST', auth, body, type });
    const { upstreamUrl: _dropped, ...missing } = item(1);
    expect(await post(JSON.stringify(missing))).toMatchObject({ status: 400, body: { code: 'ETRACK', message: 'invalid tracking item: upstreamUrl: required', input: 'upstreamUrl' } });
    expect(await post(JSON.stringify({ ...item(1), enabled: 'yes' }))).toMatchObject({ status: 400, body: { message: 'invalid tracking item: enabled: expected boolean', input: 'enabled' } });
    expect(await post(JSON.stringify({ ...item(1), spec: '../x.spec', colour: 1 }))).toMatchObject({ status: 400, body: { message: expect.stringMatching(/colour: unknown key.*spec: must match/), input: expect.stringMatching(/^(colour|spec)$/) } });
    expect((await post('{"repo": ')).status).toBe(400);
    expect(await post('repo=x', 'application/x-www-form-urlencoded')).toMatchObject({ status: 415, body: { code: 'ETRACK' } });
    expect(await raw(`${server.url}/tracking?repo=pkg1`, { method: 'DELETE', auth })).toMatchObject({ status: 400, body: { message: 'query parameter branch: required', input: 'branch' } });
    expect(await raw(`${server.url}/tracking?repo=pkg1&branch=main`, { method: 'PATCH', auth, body: '{"enabled":"no"}' })).toMatchObject({ status: 400, body: { input: 'enabled' } });
    // the client surfaces the server's message, the URL as the input
    const bad = await rejection(remoteBackend({ server: server.url }, { PATCHLINE_SERVER_USER: USER, PATCHLINE_SERVER_PASSWORD: PASSWORD }).add(missing as never));
    expect(bad.code).toBe('ETRACK');
    expect(bad.message).toBe('the tracking server refused: invalid tracking item: upstreamUrl: required');
    expect(bad.input).toBe(`POST ${server.url}/tracking`);
    expect(await localBackend(server.stateDir).list()).toEqual([]);
  });

  test('413 for a body above serve.maxBodyBytes, 404 JSON for an unknown route', async () => {
    const big = JSON.stringify({ ...item(1), spec: `${'x'.repeat(3000)}.spec` });
    const r = await raw(`${server.url}/tracking`, { method: 'POST', auth: basic(USER, PASSWORD), body: big });
    expect(r).toMatchObject({ status: 413, body: { code: 'ETRACK', message: expect.stringMatching(/serve\.maxBodyBytes/) } });
    expect(await raw(`${server.url}/nope`)).toMatchObject({ status: 404, body: { code: 'ETRACK' } });
    expect(await localBackend(server.stateDir).list()).toEqual([]);
  });
});

test('429 past serve.rateLimit per minute, failed logins counted', async () => {
  const server = await startTestServer(await writeServeConfig(tempDir(), { rateLimit: 4 }));
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await raw(`${server.url}/tracking`, { auth: basic(USER, `guess-number-${i}`) })).status);
    const over = await raw(`${server.url}/tracking`, { auth: basic(USER, PASSWORD) });
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect(over).toMatchObject({ status: 429, body: { code: 'ETRACK', message: expect.stringMatching(/too many requests/) } });
    const viaClient = await rejection(remoteBackend({ server: server.url }, { PATCHLINE_SERVER_USER: USER, PATCHLINE_SERVER_PASSWORD: PASSWORD }).list());
    expect(viaClient.details?.httpStatus).toBe(429);
  } finally {
    await server.close();
  }
});

test('concurrent POSTs: different items all land, the same item ends as one', async () => {
  const server = await startTestServer(await writeServeConfig(tempDir(), {}));
  try {
    const api = remoteBackend({ server: server.url }, { PATCHLINE_SERVER_USER: USER, PATCHLINE_SERVER_PASSWORD: PASSWORD });
    const different = await Promise.all(Array.from({ length: 12 }, (_, n) => api.add(item(n))));
    expect(different).toHaveLength(12);
    const same = await Promise.all(Array.from({ length: 8 }, (_, n) => api.add(item('x', { spec: `variant${n}.spec` }))));
    expect(same).toHaveLength(8);
    const items = await localBackend(server.stateDir).list();
    expect(items.map((i) => i.repo).sort()).toEqual([...Array.from({ length: 12 }, (_, n) => `pkg${n}`), 'pkgx'].sort());
    // the one left is one of the eight, whole
    expect(same.map((i) => i.spec)).toContain(items.find((i) => i.repo === 'pkgx')!.spec);
    expect((await api.list()).map(strip)).toEqual(items.map(strip));
  } finally {
    await server.close();
  }
});

test('plain HTTP is refused off loopback; no user, a bad hash, a missing key: refused before listening', async () => {
  const dir = tempDir();
  const refused = async (file: string, listen?: string) => (await rejection(startTestServer(file, listen))).toLine();
  expect(await refused(await writeServeConfig(dir, {}), '0.0.0.0:0')).toMatch(/ECONFIG refusing plain HTTP on 0\.0\.0\.0:0: not a loopback address.*serve\.cert and serve\.key/);
  expect(await refused(await writeServeConfig(dir, {}), '[::]:0')).toMatch(/refusing plain HTTP/);
  expect(await refused(await writeServeConfig(dir, { users: [] as never }), '127.0.0.1:0')).toMatch(/ECONFIG .*serve\.users/);
  expect(await refused(await writeServeConfig(dir, { cert: 'cert.pem' }), '127.0.0.1:0')).toMatch(/serve\.key: required with serve\.cert/);
  expect(await refused(await writeServeConfig(dir, { cert: 'nope.pem', key: 'nope.pem' }), '127.0.0.1:0')).toMatch(/serve\.cert: cannot read .*nope\.pem: ENOENT/);
  expect(await refused(await writeServeConfig(dir, { users: [{ name: 'bob', passwordHash: 'scrypt$3$8$1$AAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAA' }] }), '127.0.0.1:0')).toMatch(/serve\.users\.0\.passwordHash: not a hash/);
});
