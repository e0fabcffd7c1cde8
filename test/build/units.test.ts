import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type Config } from '../../src/core/config.js';
import { PatchlineError } from '../../src/core/errors.js';
import { snapshotRelease } from '../../src/build/settings.js';
import { kojiFaultError } from '../../src/koji/faults.js';
import { loadKojiProfile } from '../../src/koji/profile.js';
import { parseMethodResponse } from '../../src/koji/transport.js';
import { toInt } from '../../src/koji/values.js';
import { changelogDate, readSpec, rewriteSpec } from '../../src/rpm/spec.js';
import { FIXTURES } from '../support/koji-hub.js';
import { helloSpec } from '../support/rpm-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'patchline-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('spec rewriting', () => {
  const rewrite = (lines: string[]) =>
    rewriteSpec(helloSpec(), { release: '0.20261121.git1a2b3c4', changelog: { date: new Date('2026-11-01T12:00:00Z'), packager: 'patchline <p@example.org>', evr: '1.0-0.20261121.git1a2b3c4', lines } });

  test('changelog dates are in RPM form, day padded', () => {
    expect(changelogDate(new Date('2026-11-01T23:59:00Z'))).toBe('Sun Nov 01 2026');
  });

  test('Message-IDs from mail cannot expand macros or start new sections', async () => {
    const spec = rewrite([`Message-ID: <%(touch ${dir}/pwned)@x>`, 'evil\n%prep\nrm -rf /']);
    expect(spec).toContain(`- Message-ID: <%%(touch ${dir}/pwned)@x>`);
    expect(spec).toContain('- evil %%prep rm -rf /');
    const file = join(dir, 'evil.spec');
    writeFileSync(file, spec);
    await expect(readSpec(file)).resolves.toMatchObject({ name: 'hello', version: '1.0', release: '0.20261121.git1a2b3c4' });
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  test('a spec without %changelog gets one', () => {
    const spec = rewriteSpec('Name: x\nVersion: 1\nRelease: 1\n', { release: '2', changelog: { date: new Date(0), packager: 'p <p@x>', evr: '1-2', lines: ['s'] } });
    expect(spec).toBe('Name: x\nVersion: 1\nRelease: 2\n\n%changelog\n* Thu Jan 01 1970 p <p@x> - 1-2\n- s\n');
  });

  test('the snapshot release pattern', () => {
    expect(snapshotRelease('0.{date}.git{shortsha}', { sha: '1a2b3c4d'.padEnd(40, '0'), date: new Date('2026-11-21T23:00:00Z') })).toBe('0.20261121.git1a2b3c4');
    // the default: date and time first, so a later commit of the same day sorts higher whatever its sha
    expect(snapshotRelease('0.{datetime}.git{shortsha}', { sha: 'ffffffff'.padEnd(40, '0'), date: new Date('2026-11-21T09:05:07Z') })).toBe('0.20261121090507.gitfffffff');
  });
});

describe('Koji values and faults', () => {
  test('<i8> arrives as a string from the xmlrpc deserializer and is read as a number', async () => {
    const text = readFileSync(join(FIXTURES, 'echo.types.txt'), 'utf8');
    const body = text.slice(text.indexOf('=== RESPONSE ===')).split('\n\n').slice(1).join('\n\n');
    const value = (await parseMethodResponse('echo', body)) as unknown[];
    const i8 = value.find((v) => v === '1099511627776');
    expect(i8).toBe('1099511627776');
    expect(toInt(i8, 'size')).toBe(2 ** 40);
    expect(() => toInt('x', 'task id')).toThrow(PatchlineError);
  });

  test('faults carry their code and class', () => {
    const e = kojiFaultError('build', 1007, 'session expired');
    expect(e.details).toMatchObject({ faultCode: 1007, faultClass: 'AuthExpired' });
    expect(kojiFaultError('x', 1024, 'bad').message).toBe('Koji x: NameValidationError (fault 1024): bad');
  });

  test('profiles in koji INI, later files override earlier ones, paths from the file dir', () => {
    const a = join(dir, 'a.conf');
    const b = join(dir, 'b.conf');
    writeFileSync(a, '[koji]\nserver = https://a/kojihub\nweburl = https://a/koji\nauthtype = ssl\ncert = certs/me.pem\n');
    writeFileSync(b, '[koji]\nserver = https://b/kojihub\n');
    expect(loadKojiProfile('koji', [a, b])).toMatchObject({ server: 'https://b/kojihub', weburl: 'https://a/koji', authtype: 'ssl', cert: join(dir, 'certs/me.pem') });
    expect(() => loadKojiProfile('nope', [a])).toThrow(/profile \[nope\] not found/);
  });
});

describe('build config', () => {
  const base: Config = { sources: [{ type: 'mbox', name: 'l', path: 'l.mbox' }], repos: { hello: { url: 'x', branches: ['master'], build: { spec: 'hello.spec' } } } };

  test('platforms, build and repo sections validate', () => {
    const c: Config = { ...base, platforms: [{ name: 'fedora-40', builder: 'koji', target: 'f40-candidate', dist: '.fc40' }, { name: 'local', builder: 'local' }], build: { kojiProfile: 'koji', scratch: true, release: '0.{date}.git{shortsha}' } };
    expect(validateConfig(c)).toEqual(c);
  });

  test('a Koji platform needs a target, a repo needs a spec', () => {
    expect(() => validateConfig({ ...base, platforms: [{ name: 'f', builder: 'koji' }] })).toThrow(/platforms\.0/);
    expect(() => validateConfig({ ...base, repos: { hello: { url: 'x', branches: ['m'], build: { package: 'hello' } } } })).toThrow(/repos\.hello\.build/);
    expect(() => validateConfig({ ...base, repos: { hello: { url: 'x', branches: ['m'], build: { spec: '../etc/x.spec' } } } })).toThrow(/repos\.hello\.build/);
  });
});
