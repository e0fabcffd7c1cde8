import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Config } from '../../src/core/config.js';
import { KojiHub, makeTestPki, type TestPki } from '../support/koji-hub.js';
import { kojiIni } from '../support/koji-world.js';
import { removeDir, tempDir } from '../support/git-fixtures.js';
import { makeProject, records, runCli, writeUpstreamConfig } from './world.js';

/** A Koji platform: the upstream commit goes through the mail pipeline's Koji builder (SRPM upload to a test hub on loopback). */
describe('patchline upstream on a Koji platform', () => {
  let root: string;
  let pki: TestPki;
  let hub: KojiHub;
  beforeAll(async () => {
    root = tempDir('pl-upstream-koji-');
    pki = makeTestPki(root);
    hub = await new KojiHub({ tls: pki, targets: ['f40-candidate'], buildFromSrpm: 'allow' }).start();
  });
  afterAll(async () => {
    await hub.stop();
    removeDir(root);
  });

  test('the head is built by Koji and published in its repo', async () => {
    const p = await makeProject(root, 'theta');
    const config = writeUpstreamConfig(root, [p]);
    const cfg = parse(readFileSync(config, 'utf8')) as Config;
    cfg.platforms = [{ name: 'f40', builder: 'koji', target: 'f40-candidate', dist: '.fc40' }];
    cfg.build = { kojiConfig: kojiIni(root, hub, pki), kojiProfile: 'hub', pollInterval: 0.05 };
    writeFileSync(config, stringify(cfg));
    const r = await runCli(['upstream', '--config', config]);
    expect(`${r.stderr}exit ${r.code}`).toMatch(/exit 0$/);
    const [rec] = records(join(root, 'state'));
    expect(rec).toMatchObject({ status: 'SUCCESS', platform: 'f40', nvr: expect.stringMatching(/^theta-1\.0-0\.\d{14}\.[0-9a-f]{7}$/) });
    expect(rec!.rpms).toEqual([`${rec!.nvr}.noarch.rpm`]); // the spec's Release has no %{?dist}
    expect(existsSync(join(root, 'pub', rec!.repoPath!, rec!.rpms[0]!))).toBe(true);
    expect(existsSync(join(root, 'pub', 'f40', 'current', 'repodata', 'repomd.xml'))).toBe(true);
  });
});
