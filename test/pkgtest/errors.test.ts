import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, type Config } from '../../src/core/config.js';
import { readResult } from '../../src/core/results.js';
import { executeStep } from '../../src/core/step.js';
import { Ledger } from '../../src/ledger/store.js';
import { testWork } from '../../src/ledger/work.js';
import { findOnPath } from '../../src/pkgtest/process.js';
import { buildPackage, builtEntry } from './support.js';

/** Checks that cannot run (a tool missing) are errors, tried again; settings turn checks off. */
const dir = mkdtempSync(join(tmpdir(), 'pl-pkgtest-err-'));
const configFile = join(dir, 'patchline.yaml');
const base: Config = {
  stateDir: 'state',
  sources: [{ type: 'mbox', name: 'list', path: 'list.mbox' }],
  repos: { hello: { url: 'hello.git', branches: ['master'], build: { spec: 'hello.spec' }, tests: [{ name: 'greets', run: 'hello' }] } },
  apply: { gate: 'test' },
  platforms: [{ name: 'p', builder: 'local' }],
  publish: { destination: 'publish' },
};

async function step(config: Config, run: string, path?: string) {
  writeFileSync(configFile, stringify(config));
  const saved = process.env.PATH;
  if (path !== undefined) process.env.PATH = path;
  try {
    const code = await executeStep('test', { config: configFile, runDir: join(dir, run), quiet: true });
    const ledger = Ledger.open(loadConfig(configFile).stateDir);
    return { code, record: readResult(join(dir, run), 'test').tests[0], ledger, work: testWork(ledger, config, {}) };
  } finally {
    process.env.PATH = saved;
  }
}

beforeAll(() => {
  writeFileSync(configFile, stringify(base));
  const rpm = buildPackage(join(dir, 'rpmbuild'), { name: 'hello', version: '1.0', release: '1', files: { '/usr/bin/hello': { text: '#!/bin/sh\necho hello\n', mode: '0755' } } });
  Ledger.open(loadConfig(configFile).stateDir).put([builtEntry('hello/master/one', [rpm])]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checks that cannot run', () => {
  test('rpmlint missing: the check is an error (not a pass), the other checks still run, the series is tested again', async () => {
    // a PATH holding the tools the step needs, rpmlint left out
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['rpm', 'bwrap']) symlinkSync(findOnPath(tool)!, join(bin, tool));
    const { code, record, ledger, work } = await step(base, 'run1', bin);
    expect(record!.checks.map((c) => [c.name, c.state])).toEqual([
      ['rpmlint', 'error'],
      ['nvr-order', 'passed'],
      ['install', 'passed'],
      ['conflicts', 'skipped'],
      ['command:greets', 'passed'],
    ]);
    expect(record!.checks[0]!.message).toBe('rpmlint is not installed: install it (Debian and Fedora: rpmlint), or set test.rpmlint: false');
    expect(record).toMatchObject({ state: 'error', error: { code: 'ETOOL', input: 'rpmlint' } });
    expect(code).toBe(1);
    expect(ledger.get('hello/master/one')!.tests!.p!.retry).toBe('auto');
    expect(work.map((b) => b.seriesId)).toEqual(['hello/master/one']);
  });

  test('test.rpmlint false: rpmlint is skipped and the series passes; install none skips the install and the commands', async () => {
    const { code, record, work } = await step({ ...base, test: { rpmlint: false, install: 'none' } }, 'run2');
    expect(record!.checks.map((c) => [c.name, c.state, c.message])).toEqual([
      ['rpmlint', 'skipped', 'test.rpmlint is false'],
      ['nvr-order', 'passed', 'nothing of these names published for hello/master yet'],
      ['install', 'skipped', 'test.install is none'],
      ['conflicts', 'skipped', 'no other package is published on this platform'],
      ['command:greets', 'skipped', 'not installed: test.install is none'],
    ]);
    expect(record!.state).toBe('passed');
    expect(code).toBe(0);
    expect(work).toEqual([]);
  });
});
