import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, type Config } from '../../src/core/config.js';
import { readResult } from '../../src/core/results.js';
import { executeStep } from '../../src/core/step.js';
import { Ledger } from '../../src/ledger/store.js';
import { testWork } from '../../src/ledger/work.js';
import { publishPlatform } from '../../src/publish/publish-platform.js';
import { publishSettings } from '../../src/publish/settings.js';
import { loadTemplates } from '../../src/report/templates.js';
import type { TestRecord } from '../../src/pkgtest/types.js';
import { buildPackage, builtEntry, type PackageSpec } from './support.js';

/**
 * The test step end to end on real packages (rpmbuild), the real tools (rpmlint, rpm, bwrap) and a
 * repo published by the real publish code: one run over seven series, each with one defect.
 */
const dir = mkdtempSync(join(tmpdir(), 'pl-pkgtest-'));
const top = join(dir, 'rpmbuild');
const runDir = join(dir, 'state', 'runs', '20261202T000000Z');
const script = (text: string) => ({ text: `#!/bin/sh\n${text}\n`, mode: '0755' });
const pkg = (name: string, release: string, files: PackageSpec['files'], version = '1.0') => buildPackage(top, { name, version, release, files });

let code: number;
let records: Map<string, TestRecord>;
let ledger: Ledger;
let config: Config;

beforeAll(async () => {
  config = {
    stateDir: 'state',
    sources: [{ type: 'mbox', name: 'list', path: 'list.mbox' }],
    repos: {
      hello: { url: 'hello.git', branches: ['master', 'stable'], build: { spec: 'hello.spec' }, tests: [{ name: 'greets', run: ['hello'] }] },
      linted: { url: 'linted.git', branches: ['master'], build: { spec: 'linted.spec' }, rpmlintrc: 'linted.rpmlintrc' },
      broken: { url: 'broken.git', branches: ['master'], build: { spec: 'broken.spec' }, tests: [{ name: 'selftest', run: 'broken-selftest --verbose' }] },
      sleepy: { url: 'sleepy.git', branches: ['master'], build: { spec: 'sleepy.spec' }, tests: [{ name: 'forever', run: ['sh', '-c', 'sleep 987654 & sleep 987655'], timeout: 2 }] },
      other: { url: 'other.git', branches: ['master'], build: { spec: 'other.spec' } },
      again: { url: 'again.git', branches: ['master'], build: { spec: 'again.spec' } },
    },
    // the gate that asks for the test step (its default while the step is new is the lead's)
    apply: { gate: 'test' },
    platforms: [{ name: 'p', builder: 'local' }],
    // one repo for every branch of the platform: the NVR order compares only packages of the same branch in it
    publish: { destination: 'publish', layout: '{platform}' },
  };
  const configFile = join(dir, 'patchline.yaml');
  writeFileSync(configFile, stringify(config));
  writeFileSync(join(dir, 'linted.rpmlintrc'), 'addFilter("non-executable-script")\n');
  const loaded = loadConfig(configFile);

  // what the platform's repo serves already: hello 1.0-5 on master, 2.0-1 on stable, and another package
  const published = [
    { path: pkg('hello', '5', { '/usr/bin/hello': script('echo hello') }), seriesId: 'hello/master/old' },
    { path: pkg('hello', '1', { '/usr/bin/hello': script('echo hello 2') }, '2.0'), seriesId: 'hello/stable/new' },
    { path: pkg('other', '1', { '/usr/bin/other-tool': script('echo other') }), seriesId: 'other/master/x' },
    { path: pkg('again', '1', { '/usr/bin/again': script('echo again') }), seriesId: 'again/master/one' },
  ];
  const settings = publishSettings(loaded);
  await publishPlatform(settings, { target: settings.target({ platform: 'p', repo: 'hello', branch: 'master' }), runId: '20261201T000000Z', incoming: published, now: new Date() }, loadTemplates());

  const series: Array<[string, string]> = [
    // passes, with rpmlint warnings (no documentation, no manual page)
    ['hello/master/good', pkg('hello', '6', { '/usr/bin/hello': script('echo hello, patched') })],
    // lower than the 1.0-5 published on master
    ['hello/master/lower', pkg('hello', '3', { '/usr/bin/hello': script('echo hello') })],
    // a script in /usr/bin without its x bit: rpmlint's non-executable-script error
    ['hello/master/lint', pkg('hello', '7', { '/usr/bin/hello': { text: '#!/bin/sh\necho hello\n', mode: '0644' } })],
    // ships a file the published package other owns
    ['hello/master/clash', pkg('hello', '8', { '/usr/bin/hello': script('echo hello'), '/usr/bin/other-tool': script('echo mine') })],
    // the same rpmlint error, filtered by the repo's rpmlintrc
    ['linted/master/one', pkg('linted', '1', { '/usr/bin/linted': { text: '#!/bin/sh\necho linted\n', mode: '0644' } })],
    // its test command fails
    ['broken/master/one', pkg('broken', '1', { '/usr/bin/broken-selftest': script('echo "selftest says no: $*"; exit 1') })],
    // its test command hangs
    ['sleepy/master/one', pkg('sleepy', '1', { '/usr/bin/sleepy': script('echo zzz') })],
    // published already, tested again (its test settings changed): its own publication is no rival
    ['again/master/one', published[3]!.path],
  ];
  ledger = Ledger.open(loaded.stateDir);
  ledger.put([
    builtEntry('hello/master/old', [published[0]!.path], { closed: true }),
    builtEntry('hello/stable/new', [published[1]!.path], { closed: true }),
    builtEntry('other/master/x', [published[2]!.path], { closed: true }),
    ...series.map(([id, rpm]) => builtEntry(id, [rpm])),
  ]);
  code = await executeStep("test", { config: configFile, runDir, quiet: true });
  records = new Map(readResult(runDir, 'test').tests.map((t) => [t.seriesId, t]));
  ledger = Ledger.open(loaded.stateDir);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const check = (series: string, name: string) => {
  const c = records.get(series)?.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check ${name} for ${series}: ${JSON.stringify(records.get(series))}`);
  return c;
};

describe('test step (real rpmlint, rpm, bwrap)', () => {
  test('every built series is tested once, test.json is valid, and the step says some failed (3)', () => {
    expect([...records.keys()].sort()).toEqual(['again/master/one', 'broken/master/one', 'hello/master/clash', 'hello/master/good', 'hello/master/lint', 'hello/master/lower', 'linted/master/one', 'sleepy/master/one']);
    expect(code).toBe(3);
  });

  test('a good package passes every check; rpmlint warnings are listed without failing it', () => {
    const r = records.get('hello/master/good')!;
    expect(r).toMatchObject({ state: 'passed', nvr: 'hello-1.0-6', repo: 'hello', branch: 'master', platform: 'p' });
    expect(r.checks.map((c) => [c.name, c.state])).toEqual([
      ['rpmlint', 'passed'],
      ['nvr-order', 'passed'],
      ['install', 'passed'],
      ['conflicts', 'passed'],
      ['command:greets', 'passed'],
    ]);
    expect(check('hello/master/good', 'rpmlint').warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^hello\.noarch: W: no-documentation/)]));
    // compared with master's 1.0-5, not with stable's 2.0-1
    expect(check('hello/master/good', 'nvr-order').message).toBe('hello-1.0-6 > published hello-1.0-5');
    expect(readFileSync(check('hello/master/good', 'command:greets').log!, 'utf8')).toContain('hello, patched');
    for (const c of r.checks) expect(existsSync(c.log!)).toBe(true);
  });

  test('an NVR lower than the one published for the branch fails, naming both', () => {
    expect(records.get('hello/master/lower')!.state).toBe('failed');
    expect(check('hello/master/lower', 'nvr-order')).toMatchObject({ state: 'failed', message: 'hello-1.0-3 is lower than the published hello-1.0-5' });
  });

  test('the series\' own publication does not count against it', () => {
    expect(check('again/master/one', 'nvr-order')).toMatchObject({ state: 'passed', message: 'nothing of these names published for again/master yet' });
    expect(records.get('again/master/one')!.state).toBe('passed');
  });

  test('an rpmlint error fails the check with rpmlint\'s line; the repo\'s rpmlintrc can filter it', () => {
    expect(records.get('hello/master/lint')!.state).toBe('failed');
    expect(check('hello/master/lint', 'rpmlint')).toMatchObject({ state: 'failed', message: expect.stringContaining('hello.noarch: E: non-executable-script /usr/bin/hello 644') });
    expect(check('linted/master/one', 'rpmlint').state).toBe('passed');
    expect(readFileSync(check('linted/master/one', 'rpmlint').log!, 'utf8')).not.toContain('non-executable-script');
  });

  test('a file owned by a published package is a conflict naming the file and both packages', () => {
    expect(records.get('hello/master/clash')!.state).toBe('failed');
    const c = check('hello/master/clash', 'conflicts');
    expect(c.state).toBe('failed');
    expect(c.message).toMatch(/file \/usr\/bin\/other-tool .*hello-1\.0-8\.noarch.*other-1\.0-1\.noarch|file \/usr\/bin\/other-tool .*other-1\.0-1\.noarch.*hello-1\.0-8\.noarch/);
    // nothing else is wrong with it
    expect(check('hello/master/clash', 'install').state).toBe('passed');
  });

  test('a failing test command fails the series; its output is in its log', () => {
    const r = records.get('broken/master/one')!;
    expect(r.state).toBe('failed');
    const c = check('broken/master/one', 'command:selftest');
    expect(c).toMatchObject({ state: 'failed', message: expect.stringMatching(/^exit code 1: /) });
    expect(readFileSync(c.log!, 'utf8')).toContain('selftest says no: --verbose');
    expect(check('broken/master/one', 'nvr-order').message).toBe('nothing of these names published for broken/master yet');
  });

  test('a test command that hangs is killed at its timeout, with what it started', () => {
    const c = check('sleepy/master/one', 'command:forever');
    expect(c).toMatchObject({ state: 'failed', message: 'timed out after 2 s: killed with everything it started' });
    expect(c.durationSeconds).toBeLessThan(10);
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => /^sleep 98765[45]/.test(l));
    expect(left).toEqual([]);
  });

  test('the ledger holds every result: nothing is tested again, failures wait for new input', () => {
    expect(testWork(ledger, config, {})).toEqual([]);
    expect(ledger.get('hello/master/good')!.tests!.p).toMatchObject({ run: '20261202T000000Z', result: { state: 'passed' } });
    expect(ledger.get('hello/master/good')!.tests!.p!.retry).toBeUndefined();
    expect(ledger.get('broken/master/one')!.tests!.p).toMatchObject({ retry: 'input', result: { state: 'failed' } });
  });
});
