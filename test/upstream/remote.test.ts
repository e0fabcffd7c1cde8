import { chmodSync, existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Config } from '../../src/core/config.js';
import { removeDir, tempDir } from '../support/git-fixtures.js';
import { GOOD, commit, makeProject, records, runCli, writeUpstreamConfig } from './world.js';

/**
 * A remote destination (`host:/path`): the repos are made in the local mirror and rsynced, then
 * the links. The "remote shell" here runs rsync's server side locally (no ssh on loopback needed):
 * rsync calls `<rsh> <host> rsync --server ...`.
 */
describe('patchline upstream to a remote destination (rsync)', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir('pl-upstream-remote-');
  });
  afterAll(() => removeDir(root));

  test('repos, current and the pages arrive on the remote side, the links after the repos', async () => {
    const rsh = join(root, 'fake-rsh');
    writeFileSync(rsh, '#!/bin/sh\nshift\nexec "$@"\n');
    chmodSync(rsh, 0o755);
    const p = await makeProject(root, 'omicron');
    const q = await makeProject(root, 'pi');
    const config = writeUpstreamConfig(root, [p, q]);
    const cfg = parse(readFileSync(config, 'utf8')) as Config;
    const remote = join(root, 'remote');
    cfg.publish = { destination: `repohost:${remote}`, baseUrl: 'https://repos.example.org/upstream', rsync: { rsh } };
    writeFileSync(config, stringify(cfg));
    expect(`${(await runCli(['upstream', '--config', config])).stderr}`).not.toMatch(/patchline: E|warning/);
    await commit(p.upstream, 'omicron: one', GOOD(1));
    const r = await runCli(['upstream', '--config', config]);
    expect(`${r.stderr}exit ${r.code}`).toMatch(/exit 0$/);
    const all = records(join(root, 'state'));
    expect(all).toHaveLength(3);
    for (const rec of all) expect(existsSync(join(remote, rec.repoPath!, 'repodata', 'repomd.xml'))).toBe(true);
    const newest = all[2]!;
    expect(readlinkSync(join(remote, 'el9', 'current'))).toBe(newest.repoPath!.slice('el9/'.length));
    expect(readlinkSync(join(remote, 'el9', 'consistent'))).toBe(newest.repoPath!.slice('el9/'.length));
    expect(readFileSync(join(remote, newest.repoPath!, 'patchline-upstream-el9.repo'), 'utf8')).toContain(`baseurl=https://repos.example.org/upstream/el9/${newest.repoPath!.slice('el9/'.length)}/`);
    // pi's RPM, in its own repo and linked into omicron's new one: one file on the remote too
    const pi = all.find((x) => x.project === 'pi')!;
    const a = statSync(join(remote, pi.repoPath!, pi.rpms[0]!));
    const b = statSync(join(remote, newest.repoPath!, pi.rpms[0]!));
    expect(b.ino).toBe(a.ino);
    expect(existsSync(join(remote, 'report.html'))).toBe(true);
    expect(existsSync(join(remote, 'queue.json'))).toBe(true);
  });
});
