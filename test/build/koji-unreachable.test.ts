/**
 * A Koji hub that cannot be reached, or that refuses the login, ends the build step process
 * promptly with one EKOJI line (issue 13, item 7): the real step process (dist/steps/build.js,
 * built by `npm test`) against a port where nothing listens, and against the test hub with a
 * wrong password. A refused login is never retried; a refused connection only briefly.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Config } from '../../src/core/config.js';
import { PACKAGE_ROOT } from '../../src/core/paths.js';
import { freePort } from '../support/dovecot.js';
import { KojiHub } from '../support/koji-hub.js';
import { makePackageFixture, type PackageFixture } from '../support/rpm-fixtures.js';

const STEP = join(PACKAGE_ROOT, 'dist', 'steps', 'build.js');
const WRONG = 'wrong-koji-secret';
/** A bound that catches a hang (the default retries backed off for 31 s), not a speed claim. */
const PROMPT_MS = 10_000;

const dirs: string[] = [];
const hubs: KojiHub[] = [];
afterAll(async () => {
  for (const h of hubs) await h.stop();
  if (!process.env.PATCHLINE_KEEP_TEMP) for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The package fixture (one applied series in the run's apply.json) with one Koji platform on profile [pw] (password login) at `server`. */
function kojiWorld(server: string): PackageFixture {
  const f = makePackageFixture({ platforms: [{ name: 'fedora-40', builder: 'koji', target: 'f40-candidate', dist: '.fc40' }], build: { kojiProfile: 'pw', kojiPassword: { env: 'PL_TEST_KOJI_PASSWORD' } } });
  dirs.push(f.dir);
  const ini = join(f.dir, 'koji.conf');
  writeFileSync(ini, `[pw]\nserver = ${server}\nweburl = https://koji.example.org/koji\nauthtype = password\nuser = patchline\n`);
  const config = parse(readFileSync(f.configFile, 'utf8')) as Config;
  config.build = { ...config.build, kojiConfig: ini };
  writeFileSync(f.configFile, stringify(config));
  return f;
}

/** Run the build step process; resolves with its exit code, stderr and how long it took to exit. */
function runStep(f: PackageFixture): Promise<{ code: number | null; stderr: string; ms: number }> {
  const start = Date.now();
  const child = spawn(process.execPath, [STEP, '--config', f.configFile, '--run-dir', f.runDir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PL_TEST_KOJI_PASSWORD: WRONG } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // a hang is killed well after the bound, so the test reports it instead of timing out
  const kill = setTimeout(() => child.kill('SIGKILL'), 6 * PROMPT_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stderr, ms: Date.now() - start });
    });
  });
}

const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1)!;

test('a hub where nothing listens: one EKOJI line and exit 1, after a brief retry', async () => {
  const port = await freePort();
  const { code, stderr, ms } = await runStep(kojiWorld(`http://127.0.0.1:${port}/kojihub`));
  expect(code).toBe(1);
  expect(lastLine(stderr)).toMatch(new RegExp(`^patchline: EKOJI Koji profile \\[pw\\]: cannot log in to http://127.0.0.1:${port}/kojihub as patchline: Koji login: .*ECONNREFUSED.* \\[pw\\]$`));
  expect(ms).toBeLessThan(PROMPT_MS);
  // the refused connection was retried (the designed retry), within the bound
  expect(stderr).toMatch(/ECONNREFUSED.*; retrying/);
  expect(stderr).not.toContain(WRONG);
});

test('the hub refusing the login: one EKOJI line and exit 1, the login tried once', async () => {
  const hub = await new KojiHub({ users: { patchline: 'sekrit' }, targets: ['f40-candidate'] }).start();
  hubs.push(hub);
  const { code, stderr, ms } = await runStep(kojiWorld(hub.url));
  expect(code).toBe(1);
  expect(lastLine(stderr)).toMatch(/^patchline: EKOJI Koji profile \[pw\]: cannot log in to http:\/\/127.0.0.1:\d+\/kojihub as patchline: Koji login: AuthError \(fault 1002\): invalid username or password \[pw\]$/);
  expect(ms).toBeLessThan(PROMPT_MS);
  expect(stderr).not.toContain(WRONG);
  expect(hub.requests.filter((r) => r.methods.includes('login'))).toHaveLength(1);
  expect(hub.methodCounts().build).toBeUndefined();
});
