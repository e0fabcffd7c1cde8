import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, type Config } from '../../src/core/config.js';
import { readResult } from '../../src/core/results.js';
import { executeStep } from '../../src/core/step.js';
import { Ledger } from '../../src/ledger/store.js';
import { testWork } from '../../src/ledger/work.js';
import type { TestRecord } from '../../src/pkgtest/types.js';
import { buildPackage, builtEntry, minibase, yumRepo } from './support.js';

/**
 * dnf --installroot against a base repo served over HTTP on loopback (the download pass shares
 * the network), scriptlets and test commands in the sandbox over the full root it makes.
 */
const dir = mkdtempSync(join(tmpdir(), 'pl-pkgtest-dnf-'));
const top = join(dir, 'rpmbuild');
let server: Server;
let baseUrl: string;

/** A static file server for the base repo (what a mirror is). */
function serve(root: string): Promise<string> {
  server = createServer((req, res) => {
    const file = join(root, normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)));
}

async function runStep(name: string, repos: string[], series: Array<[string, string]>): Promise<{ code: number; records: Map<string, TestRecord>; ledger: Ledger; config: Config }> {
  const base = join(dir, name);
  const config: Config = {
    stateDir: join(base, 'state'),
    sources: [{ type: 'mbox', name: 'list', path: 'list.mbox' }],
    repos: {
      hpost: { url: 'hpost.git', branches: ['master'], build: { spec: 'hpost.spec' }, tests: [{ name: 'runs', run: ['hpost'] }, { name: 'post-ran', run: ['sh', '-c', 'test -f /var/lib/hpost-post-ran'] }] },
      needy: { url: 'needy.git', branches: ['master'], build: { spec: 'needy.spec' } },
      badpost: { url: 'badpost.git', branches: ['master'], build: { spec: 'badpost.spec' } },
    },
    apply: { gate: 'test' },
    platforms: [{ name: 'el', builder: 'local', repos }],
    publish: { destination: join(base, 'publish') },
  };
  const configFile = join(dir, `${name}.yaml`);
  writeFileSync(configFile, stringify(config));
  const loaded = loadConfig(configFile);
  Ledger.open(loaded.stateDir).put(series.map(([id, rpm]) => builtEntry(id, [rpm], { platform: 'el' })));
  const runDir = join(base, 'run');
  const code = await executeStep('test', { config: configFile, runDir, quiet: true });
  return { code, records: new Map(readResult(runDir, 'test').tests.map((t) => [t.seriesId, t])), ledger: Ledger.open(loaded.stateDir), config };
}

let hpost: string;
beforeAll(async () => {
  baseUrl = await serve(yumRepo(join(dir, 'base'), [minibase(top)]));
  hpost = buildPackage(top, { name: 'hpost', version: '1.0', release: '1', files: { '/usr/bin/hpost': { text: '#!/bin/sh\necho hello from hpost\n', mode: '0755' } }, post: 'echo ran > /var/lib/hpost-post-ran' });
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('install with dnf against the platform\'s base repos', () => {
  let records: Map<string, TestRecord>;
  let code: number;
  beforeAll(async () => {
    const needy = buildPackage(top, { name: 'needy', version: '1.0', release: '1', requires: ['libnothing.so.9()(64bit)'], files: { '/usr/share/needy/README': { text: 'needy\n' } } });
    const badpost = buildPackage(top, { name: 'badpost', version: '1.0', release: '1', post: 'echo "post fails" >&2; exit 3', files: { '/usr/share/badpost/README': { text: 'badpost\n' } } });
    ({ code, records } = await runStep('reachable', [baseUrl], [
      ['hpost/master/one', hpost],
      ['needy/master/one', needy],
      ['badpost/master/one', badpost],
    ]));
  }, 120_000);

  test('dependencies come from the base repo, the scriptlet runs in the root, the commands run over it', () => {
    const r = records.get('hpost/master/one')!;
    expect(r.checks.map((c) => [c.name, c.state])).toEqual([
      ['rpmlint', 'passed'],
      ['nvr-order', 'passed'],
      ['install', 'passed'],
      ['conflicts', 'skipped'],
      ['command:runs', 'passed'],
      ['command:post-ran', 'passed'],
    ]);
    expect(r.state).toBe('passed');
    const install = r.checks.find((c) => c.name === 'install')!;
    expect(install.message).toBe('dnf installed the packages with their dependencies from 1 base repo, scriptlets run');
    expect(readFileSync(install.log!, 'utf8')).toMatch(/minibase/);
    expect(readFileSync(r.checks.find((c) => c.name === 'command:runs')!.log!, 'utf8')).toContain('hello from hpost');
    // the throwaway root is gone, the logs stay
    expect(existsSync(join(install.log!, '..', 'root'))).toBe(false);
  });

  test('a dependency nothing provides fails the install, naming it', () => {
    expect(records.get('needy/master/one')!.state).toBe('failed');
    expect(records.get('needy/master/one')!.checks.find((c) => c.name === 'install')).toMatchObject({ state: 'failed', message: expect.stringContaining('nothing provides libnothing.so.9()(64bit)') });
  });

  test('a failing %post fails the install', () => {
    expect(records.get('badpost/master/one')!.checks.find((c) => c.name === 'install')).toMatchObject({ state: 'failed', message: expect.stringMatching(/scriptlet/i) });
  });

  test('the step says some failed', () => {
    expect(code).toBe(3);
  });
});

describe('a base repo that cannot be reached', () => {
  test('is an error, not a failure: the series is tested again by the next run', async () => {
    const { code, records, ledger, config } = await runStep('unreachable', ['http://127.0.0.1:9/nowhere/'], [['hpost/master/two', hpost]]);
    const r = records.get('hpost/master/two')!;
    expect(r.state).toBe('error');
    expect(r.checks.find((c) => c.name === 'install')).toMatchObject({ state: 'error', message: expect.stringMatching(/^dnf could not read the base repos/) });
    // what could not run does not hide what did
    expect(r.checks.find((c) => c.name === 'rpmlint')!.state).toBe('passed');
    expect(r.checks.find((c) => c.name === 'command:runs')!.state).toBe('skipped');
    expect(r.error?.code).toBe('ETOOL');
    expect(code).toBe(1);
    expect(ledger.get('hpost/master/two')!.tests!.el!.retry).toBe('auto');
    expect(testWork(ledger, config, {}).map((b) => b.seriesId)).toEqual(['hpost/master/two']);
  }, 120_000);
});
