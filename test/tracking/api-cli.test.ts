/**
 * `patchline serve` as installed (dist/): a process that listens, answers T1's `patchline track
 * ... --server URL` like the local state does, scans every tracking.scanInterval, stops
 * gracefully on SIGTERM, and refuses plain HTTP off loopback with one line and exit 2.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PASSWORD, USER, cli, item, makeCert, spawnServe, writeServeConfig, removeTempDirs, tempDir } from './api-support.js';

afterAll(removeTempDirs);

/** The JSON without the times a store stamps (they differ between two stores). */
function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'createdAt' && k !== 'updatedAt').map(([k, v]) => [k, withoutTimes(v)]));
}

const CREDS = { PATCHLINE_SERVER_USER: USER, PATCHLINE_SERVER_PASSWORD: PASSWORD };

test('track add --dir and list --json: the same through the server (HTTPS) as on local state; SIGTERM stops serve cleanly', async () => {
  const dir = tempDir();
  const items = join(dir, 'items');
  mkdirSync(items);
  for (const n of [1, 2, 3]) writeFileSync(join(items, `pkg${n}.yaml`), stringify(item(n, n === 2 ? { enabled: false, lastCommit: 'b'.repeat(40) } : {})));
  writeFileSync(join(items, 'README.txt'), 'not an item\n');
  mkdirSync(join(dir, 'server'));
  const { cert } = makeCert(join(dir, 'server'));
  const serverConfig = await writeServeConfig(join(dir, 'server'), { cert: 'cert.pem', key: 'key.pem' });
  const localConfig = await writeServeConfig(join(dir, 'local'), {});
  const serve = await spawnServe(['--config', serverConfig]);
  try {
    expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const server = ['--server', serve.url, '--ca-file', cert];
    const remoteAdd = await cli(['track', 'add', '--dir', items, ...server], CREDS);
    expect(remoteAdd).toMatchObject({ status: 0 });
    const localAdd = await cli(['track', 'add', '--dir', items, '--config', localConfig]);
    expect(localAdd).toMatchObject({ status: 0 });
    const remote = await cli(['track', 'list', '--json', ...server], CREDS);
    const local = await cli(['track', 'list', '--json', '--config', localConfig]);
    const onServer = await cli(['track', 'list', '--json', '--config', serverConfig]);
    expect(remote.status).toBe(0);
    expect(withoutTimes(JSON.parse(remote.stdout))).toEqual(withoutTimes(JSON.parse(local.stdout)));
    expect(JSON.parse(remote.stdout)).toEqual(JSON.parse(onServer.stdout));
    expect(remote.stdout).toContain('pkg3');
    // a wrong password: EAUTH, exit 1, the password in no output
    const refused = await cli(['track', 'list', '--json', ...server], { ...CREDS, PATCHLINE_SERVER_PASSWORD: 'a-wrong-password-7' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/EAUTH/);
    expect(refused.stderr + refused.stdout).not.toContain('a-wrong-password-7');
  } finally {
    serve.child.kill('SIGTERM');
  }
  expect(await serve.exited).toBe(0);
  expect(serve.stderr()).toMatch(/SIGTERM: stopping/);
  expect(serve.stderr()).not.toContain(PASSWORD);
});

test('serve scans every tracking.scanInterval seconds', async () => {
  const dir = tempDir();
  const config = await writeServeConfig(dir, {}, { reviewTo: ['list@example.org'], scanInterval: 1 });
  const serve = await spawnServe(['--config', config]);
  try {
    expect(serve.stderr()).toMatch(/scanning every 1 s/);
    const deadline = Date.now() + 15_000;
    while (!/scan: 0 item\(s\)[\s\S]*scan: 0 item\(s\)/.test(serve.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(serve.stderr()).toMatch(/scan: 0 item\(s\)[\s\S]*scan: 0 item\(s\)/);
  } finally {
    serve.child.kill('SIGTERM');
  }
  expect(await serve.exited).toBe(0);
});

test('serve refuses plain HTTP on a non-loopback address: one line, exit 2', async () => {
  const config = await writeServeConfig(tempDir(), {});
  const r = await cli(['serve', '--config', config, '--listen', '0.0.0.0:0']);
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^patchline: ECONFIG refusing plain HTTP on 0\.0\.0\.0:0: not a loopback address/)]);
});
