import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { jest } from '@jest/globals';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { BuildResult } from '../../src/build/types.js';
import type { Config } from '../../src/core/config.js';
import { PatchlineError } from '../../src/core/errors.js';
import { executeStep } from '../../src/core/step.js';
import { loadKojiProfile } from '../../src/koji/profile.js';
import { KojiHub, makeTestPki, type TestPki } from '../support/koji-hub.js';
import { makePackageFixture } from '../support/rpm-fixtures.js';

/**
 * The Koji client certificate and CA handed over as files named by PATCHLINE_KOJI_CERT and
 * PATCHLINE_KOJI_SERVERCA (what Jenkins' "Secret file" bindings give), overriding the profile's
 * `cert =` / `serverca =`: an agent's /etc/koji.conf names paths that exist on a developer's desk only.
 */
let dir: string;
let pki: TestPki;
let hub: KojiHub;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'patchline-koji-env-'));
  pki = makeTestPki(dir);
  hub = await new KojiHub({ tls: pki, targets: ['f40-candidate'], buildFromSrpm: 'allow' }).start();
});
afterAll(async () => {
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A koji INI as found on an agent: the profile names a certificate and CA that are not there. */
function agentIni(profile: Record<string, string>): string {
  const file = join(mkdtempSync(join(dir, 'ini-')), 'koji.conf');
  writeFileSync(file, `[hub]\nserver = ${hub.url}\n${Object.entries(profile).map(([k, v]) => `${k} = ${v}\n`).join('')}`);
  return file;
}
const MISSING = { authtype: 'ssl', cert: '~/.koji/nobody-here.pem', serverca: '/nonexistent/koji-ca.crt' };

describe('PATCHLINE_KOJI_CERT / PATCHLINE_KOJI_SERVERCA override the Koji profile', () => {
  test('the variables win over cert= and serverca=; without them the profile is read as before', () => {
    const ini = agentIni(MISSING);
    const env = { PATCHLINE_KOJI_CERT: pki.clientPemFile, PATCHLINE_KOJI_SERVERCA: pki.caFile };
    expect(loadKojiProfile('hub', [ini], env)).toMatchObject({ authtype: 'ssl', cert: pki.clientPemFile, serverca: pki.caFile });
    expect(loadKojiProfile('hub', [ini], {})).toMatchObject({ cert: expect.stringMatching(/\/\.koji\/nobody-here\.pem$/), serverca: '/nonexistent/koji-ca.crt' });
  });

  test('a profile with no cert at all becomes an ssl profile when the variable names one', () => {
    const ini = agentIni({});
    expect(loadKojiProfile('hub', [ini], {}).authtype).toBe('password');
    expect(loadKojiProfile('hub', [ini], { PATCHLINE_KOJI_CERT: pki.clientPemFile })).toMatchObject({ authtype: 'ssl', cert: pki.clientPemFile });
    expect(() => loadKojiProfile('hub', [agentIni({ authtype: 'ssl' })], {})).toThrow(/authtype ssl needs "cert" \(or PATCHLINE_KOJI_CERT\)/);
  });

  test('a variable naming a missing file is a config error that names the variable', () => {
    const ini = agentIni(MISSING);
    for (const variable of ['PATCHLINE_KOJI_CERT', 'PATCHLINE_KOJI_SERVERCA']) {
      let err: unknown;
      try {
        loadKojiProfile('hub', [ini], { [variable]: join(dir, 'gone.pem') });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PatchlineError);
      expect(err).toMatchObject({ code: 'ECONFIG', input: join(dir, 'gone.pem') });
      expect((err as Error).message).toMatch(new RegExp(`^${variable} names a file that does not exist`));
    }
  });

  test('the build step logs in to the hub with the certificate from the environment (sslLogin, client CN seen by the hub)', async () => {
    const f = makePackageFixture({ platforms: [{ name: 'fedora-40', builder: 'koji', target: 'f40-candidate', dist: '.fc40' }], build: { kojiProfile: 'hub' } });
    const config = parse(readFileSync(f.configFile, 'utf8')) as Config;
    config.build = { ...config.build, kojiConfig: agentIni(MISSING), pollInterval: 0.05 };
    writeFileSync(f.configFile, stringify(config));
    const build = async (env: Record<string, string>) => {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const code = await executeStep('build', { config: f.configFile, runDir: f.runDir, quiet: true });
        return { code, stderr: stderr.mock.calls.map((c) => String(c[0])).join('') };
      } finally {
        stderr.mockRestore();
        for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
      }
    };

    // without the variables the profile's missing certificate stops the build: nothing reaches the hub
    const before = await build({});
    expect(before.code).toBe(2);
    expect(before.stderr).toMatch(/^patchline: ECONFIG Koji profile \[hub\]: cannot read cert: ENOENT/);
    expect(hub.requests).toHaveLength(0);

    const after = await build({ PATCHLINE_KOJI_CERT: pki.clientPemFile, PATCHLINE_KOJI_SERVERCA: pki.caFile });
    expect(after).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(readFileSync(join(f.runDir, 'build.json'), 'utf8')) as BuildResult;
    expect(result.builds[0]).toMatchObject({ platform: 'fedora-40', builder: 'koji', state: 'built' });
    expect(hub.requests[0]).toMatchObject({ path: '/kojihub/ssllogin', methods: ['sslLogin'], clientCertCN: 'patchline' });
  });
});
