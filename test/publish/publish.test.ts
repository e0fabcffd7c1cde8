import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { ExitCode } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/log.js';
import { readResult, writeResult } from '../../src/core/results.js';
import { runPublishStep } from '../../src/publish/step.js';
import { isRemoteDestination } from '../../src/publish/settings.js';
import { buildFixture } from '../support/result-fixtures.js';
import { buildRpm, repoquery } from './rpm-fixture.js';
import { RESERVED_PLATFORM_NAMES, RESERVED_PUBLISH_NAMES } from '../../src/core/config-checks.js';
import { STATUS_DIR } from '../../src/report/status-page.js';
import { PAGES } from '../../src/upstream/pages.js';
import { LINKS } from '../../src/upstream/repos.js';

const base = mkdtempSync(join(tmpdir(), 'pl-publish-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const top = join(base, 'rpmbuild');
const cache = base;
const quiet: Logger = { info() {}, warn() {} };

function config(dir: string, publish: object): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'patchline.yaml');
  writeFileSync(file, JSON.stringify({ sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }], repos: { qemu: { url: 'qemu.git', branches: ['master'] } }, publish }));
  return file;
}

/** One run: build.json naming these RPMs, then the publish step. */
async function publishRun(configFile: string, runId: string, rpms: { el9?: string[]; f40?: string[] }): Promise<{ code: ExitCode; runDir: string; warnings: string[] }> {
  const runDir = join(base, 'runs', runId);
  mkdirSync(runDir, { recursive: true });
  writeResult(runDir, 'build', buildFixture(rpms));
  const warnings: string[] = [];
  const code = await runPublishStep({ loaded: loadConfig(configFile), runDir, runId, options: { config: configFile }, log: { info() {}, warn: (l) => warnings.push(l) } });
  return { code, runDir, warnings };
}

describe('publish to a local destination', () => {
  const dest = join(base, 'www');
  const cfg = config(join(base, 'local'), { destination: '../www', baseUrl: 'https://repos.example.org/patchline', keep: 2 });
  const a1 = buildRpm(top, 'alpha', '1.0');
  const b1 = buildRpm(top, 'beta', '2.0');

  test('first run: a repo per platform and branch that dnf reads, .repo file, index.html, publish.json', async () => {
    const { code, runDir } = await publishRun(cfg, 'r1', { el9: [a1, b1], f40: [a1] });
    expect(code).toBe(ExitCode.ok);
    expect(repoquery(join(dest, 'el9/qemu-master'), cache)).toEqual(['alpha-0:1.0-1.noarch', 'beta-0:2.0-1.noarch']);
    expect(repoquery(join(dest, 'f40/qemu-master'), cache)).toEqual(['alpha-0:1.0-1.noarch']);
    expect(readlinkSync(join(dest, 'el9/qemu-master'))).toBe('qemu-master.r1');
    expect(readFileSync(join(dest, 'el9/qemu-master', 'patchline-el9-qemu-master.repo'), 'utf8')).toContain('[patchline-el9-qemu-master]\nname=patchline-el9-qemu-master (el9, published by patchline)\nbaseurl=https://repos.example.org/patchline/el9/qemu-master/\n');
    const index = readFileSync(join(dest, 'el9/qemu-master', 'index.html'), 'utf8');
    expect(index).toContain('alpha');
    expect(index).toContain('qemu-master-fix-io');
    const result = readResult(runDir, 'publish');
    const el9 = result.repos.find((r) => r.platform === 'el9')!;
    expect(el9).toMatchObject({ repo: 'qemu', branch: 'master', key: 'el9/qemu-master', status: 'published', path: join(dest, 'el9/qemu-master'), url: 'https://repos.example.org/patchline/el9/qemu-master/', generation: 'el9/qemu-master.r1', added: ['alpha-1.0-1.noarch.rpm', 'beta-2.0-1.noarch.rpm'] });
    expect(el9.packages.map((p) => [p.name, p.version, p.release, p.arch, p.url, p.seriesId])).toEqual([
      ['alpha', '1.0', '1', 'noarch', 'https://repos.example.org/patchline/el9/qemu-master/Packages/alpha-1.0-1.noarch.rpm', 'qemu-master-fix-io'],
      ['beta', '2.0', '1', 'noarch', 'https://repos.example.org/patchline/el9/qemu-master/Packages/beta-2.0-1.noarch.rpm', 'qemu-master-fix-io'],
    ]);
  });

  test('later runs add to the repo (createrepo_c --update), switch the symlink, keep the last N', async () => {
    const a2 = buildRpm(top, 'alpha', '1.1');
    expect((await publishRun(cfg, 'r2', { el9: [a2] })).code).toBe(ExitCode.ok);
    expect(repoquery(join(dest, 'el9/qemu-master'), cache)).toEqual(['alpha-0:1.0-1.noarch', 'alpha-0:1.1-1.noarch', 'beta-0:2.0-1.noarch']);
    expect(readlinkSync(join(dest, 'el9/qemu-master'))).toBe('qemu-master.r2');
    const g1 = buildRpm(top, 'gamma', '0.1');
    expect((await publishRun(cfg, 'r3', { el9: [g1] })).code).toBe(ExitCode.ok);
    expect(readdirSync(join(dest, 'el9')).filter((n) => n.startsWith('qemu-master.')).sort()).toEqual(['qemu-master.r2', 'qemu-master.r3']);
    expect(repoquery(join(dest, 'el9/qemu-master'), cache)).toContain('gamma-0:0.1-1.noarch');
    expect(repoquery(join(dest, 'el9/qemu-master.r2'), cache)).not.toContain('gamma-0:0.1-1.noarch');
  });

  test('a corrupt RPM fails that platform with the tool message; the previous repo still serves', async () => {
    const bad = join(base, 'broken-9-9.noarch.rpm');
    writeFileSync(bad, readFileSync(buildRpm(top, 'broken', '9', '9')).subarray(0, 300));
    const before = repoquery(join(dest, 'el9/qemu-master'), cache);
    const { code, runDir, warnings } = await publishRun(cfg, 'r4', { el9: [bad], f40: [buildRpm(top, 'delta', '1')] });
    expect(code).toBe(ExitCode.partial);
    expect(readlinkSync(join(dest, 'el9/qemu-master'))).toBe('qemu-master.r3');
    expect(repoquery(join(dest, 'el9/qemu-master'), cache)).toEqual(before);
    expect(existsSync(join(dest, 'el9/qemu-master.r4'))).toBe(false);
    const el9 = readResult(runDir, 'publish').repos.find((r) => r.platform === 'el9')!;
    expect(el9.status).toBe('failed');
    expect(el9.error!.message).toMatch(/^rpm failed \(exit code \d+\): .*broken-9-9.noarch.rpm/s);
    expect(el9.packages.map((p) => p.name)).toContain('gamma');
    expect(warnings.join('\n')).toMatch(/publish el9\/qemu-master failed, the previous repo still serves/);
  });

  test('a file that is not an RPM at all is refused before any tool reads it', async () => {
    const junk = join(base, 'junk-1-1.noarch.rpm');
    writeFileSync(junk, 'alpha\nbeta\n');
    const { code, runDir } = await publishRun(cfg, 'r4b', { el9: [junk] });
    expect(code).toBe(ExitCode.failed);
    expect(readResult(runDir, 'publish').repos[0]!.error!.message).toBe(`not an RPM file (no RPM lead): ${junk}`);
    expect(readlinkSync(join(dest, 'el9/qemu-master'))).toBe('qemu-master.r3');
  });

  test('a publish killed before the switch leaves a stray generation that nothing serves, and the next run is fine', async () => {
    mkdirSync(join(dest, 'el9/qemu-master.r5', 'Packages'), { recursive: true });
    writeFileSync(join(dest, 'el9/qemu-master.r5', 'Packages', 'half.rpm'), 'half copied');
    expect(readlinkSync(join(dest, 'el9/qemu-master'))).toBe('qemu-master.r3');
    expect((await publishRun(cfg, 'r5', { el9: [buildRpm(top, 'epsilon', '1')] })).code).toBe(ExitCode.ok);
    expect(readlinkSync(join(dest, 'el9/qemu-master'))).toBe('qemu-master.r5-2');
    expect(repoquery(join(dest, 'el9/qemu-master'), cache)).toContain('epsilon-0:1-1.noarch');
    expect(readdirSync(join(dest, 'el9/qemu-master', 'Packages'))).not.toContain('half.rpm');
  });
});

describe('publish to a remote destination over rsync', () => {
  const remote = join(base, 'remote');
  const rsh = join(base, 'rsh.sh');
  writeFileSync(rsh, '#!/bin/sh\n# stands in for ssh: drop the host, run the command here\nshift\nexec "$@"\n');
  chmodSync(rsh, 0o755);
  mkdirSync(remote, { recursive: true });
  const cfg = config(join(base, 'remote-cfg'), { destination: `localhost:${remote}`, baseUrl: 'https://repos.example.org/', rsync: { rsh, options: ['--chmod=D755,F644'] } });

  test('the host:/path form is recognised', () => {
    expect(isRemoteDestination('localhost:/srv/repos')).toBe(true);
    expect(isRemoteDestination('deploy@web-1.example.org:/srv')).toBe(true);
    expect(isRemoteDestination('/srv/repos')).toBe(false);
    expect(isRemoteDestination('./repos:x')).toBe(false);
  });

  test('the mirror is rsynced to the second directory, and dnf reads it there', async () => {
    const { code, runDir } = await publishRun(cfg, 'm1', { el9: [buildRpm(top, 'zeta', '3')] });
    expect(code).toBe(ExitCode.ok);
    expect(readlinkSync(join(remote, 'el9/qemu-master'))).toBe('qemu-master.m1');
    expect(repoquery(join(remote, 'el9/qemu-master'), cache)).toEqual(['zeta-0:3-1.noarch']);
    expect(readResult(runDir, 'publish').repos[0]).toMatchObject({ path: `localhost:${remote}/el9/qemu-master`, url: 'https://repos.example.org/el9/qemu-master/' });
  });

  test('an rsync failure is reported with rsync\'s message and the remote keeps serving the old repo', async () => {
    writeFileSync(rsh, '#!/bin/sh\necho "ssh: connect to host localhost port 22: Connection refused" >&2\nexit 255\n');
    const { code, runDir } = await publishRun(cfg, 'm2', { el9: [buildRpm(top, 'eta', '1')] });
    expect(code).toBe(ExitCode.failed);
    expect(readlinkSync(join(remote, 'el9/qemu-master'))).toBe('qemu-master.m1');
    expect(repoquery(join(remote, 'el9/qemu-master'), cache)).toEqual(['zeta-0:3-1.noarch']);
    const el9 = readResult(runDir, 'publish').repos[0]!;
    expect(el9.status).toBe('failed');
    expect(el9.error!.message).toMatch(/rsync failed \(exit code \d+\).*Connection refused/s);
    expect(el9.packages.map((p) => p.name)).toEqual(['zeta']);
  });
});

describe('repos per branch (publish.layout)', () => {
  const a = buildRpm(top, 'kappa', '1.0');
  const b = buildRpm(top, 'kappa', '2.0');

  /** build.json with one series per branch of qemu, on el9. */
  async function branchRun(configFile: string, runId: string, perBranch: Record<string, string[]>): Promise<{ code: ExitCode; runDir: string; warnings: string[] }> {
    const runDir = join(base, 'runs', runId);
    mkdirSync(runDir, { recursive: true });
    const fixture = buildFixture({});
    const template = fixture.builds[0]!;
    fixture.builds = Object.entries(perBranch).map(([branch, rpms]) => ({ ...template, seriesId: `qemu-${branch.replace(/\//g, '-')}-x`, branch, rpms }));
    writeResult(runDir, 'build', fixture);
    const warnings: string[] = [];
    const code = await runPublishStep({ loaded: loadConfig(configFile), runDir, runId, options: { config: configFile }, log: { info() {}, warn: (l) => warnings.push(l) } });
    return { code, runDir, warnings };
  }

  function branchesConfig(dir: string, publish: object, branches = ['master', 'stable/2.1']): string {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'patchline.yaml');
    writeFileSync(file, JSON.stringify({ sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }], repos: { qemu: { url: 'qemu.git', branches } }, platforms: [{ name: 'el9', builder: 'local' }], publish }));
    return file;
  }

  test('two branches of one package: two repos, each with its own NVRs and .repo id; a branch with / is a subdirectory', async () => {
    const dest = join(base, 'www-branches');
    const cfg = branchesConfig(join(base, 'branches'), { destination: '../www-branches', baseUrl: 'https://repos.example.org' });
    const { code, runDir } = await branchRun(cfg, 'b1', { master: [b], 'stable/2.1': [a] });
    expect(code).toBe(ExitCode.ok);
    expect(repoquery(join(dest, 'el9/qemu-master'), cache)).toEqual(['kappa-0:2.0-1.noarch']);
    expect(repoquery(join(dest, 'el9/qemu-stable/2.1'), cache)).toEqual(['kappa-0:1.0-1.noarch']);
    // relative targets: the tree is valid wherever it is copied
    expect(readlinkSync(join(dest, 'el9/qemu-stable/2.1'))).toBe('2.1.b1');
    expect(readFileSync(join(dest, 'el9/qemu-stable/2.1', 'patchline-el9-qemu-stable-2.1.repo'), 'utf8')).toContain('baseurl=https://repos.example.org/el9/qemu-stable/2.1/\n');
    const repos = readResult(runDir, 'publish').repos;
    expect(repos.map((r) => [r.key, r.repo, r.branch, r.generation])).toEqual([
      ['el9/qemu-master', 'qemu', 'master', 'el9/qemu-master.b1'],
      ['el9/qemu-stable/2.1', 'qemu', 'stable/2.1', 'el9/qemu-stable/2.1.b1'],
    ]);
    // the next run of one branch leaves the other's repo as it is
    expect((await branchRun(cfg, 'b2', { 'stable/2.1': [buildRpm(top, 'kappa', '1.1')] })).code).toBe(ExitCode.ok);
    expect(readlinkSync(join(dest, 'el9/qemu-master'))).toBe('qemu-master.b1');
    expect(repoquery(join(dest, 'el9/qemu-stable/2.1'), cache)).toEqual(['kappa-0:1.0-1.noarch', 'kappa-0:1.1-1.noarch']);
  });

  test('publish.layout "{platform}" keeps one repo per platform for every branch', async () => {
    const dest = join(base, 'www-shared');
    const cfg = branchesConfig(join(base, 'shared'), { destination: '../www-shared', layout: '{platform}', repoName: 'team-{platform}' });
    expect((await branchRun(cfg, 's1', { master: [b], 'stable/2.1': [a] })).code).toBe(ExitCode.ok);
    expect(readlinkSync(join(dest, 'el9'))).toBe('el9.s1');
    expect(repoquery(join(dest, 'el9'), cache)).toEqual(['kappa-0:1.0-1.noarch', 'kappa-0:2.0-1.noarch']);
    expect(existsSync(join(dest, 'el9', 'team-el9.repo'))).toBe(true);
  });

  test('a destination still holding repos of the one-repo-per-platform layout is not written into: the error says what to do', async () => {
    const dest = join(base, 'www-old');
    const old = branchesConfig(join(base, 'old'), { destination: '../www-old', layout: '{platform}' });
    expect((await branchRun(old, 'o1', { master: [a] })).code).toBe(ExitCode.ok);
    const cfg = branchesConfig(join(base, 'old'), { destination: '../www-old' });
    const { code, runDir } = await branchRun(cfg, 'o2', { master: [b] });
    expect(code).toBe(ExitCode.failed);
    expect(readResult(runDir, 'publish').repos[0]!.error!.message).toBe(
      `${join(dest, 'el9')} is a repo of another layout (publish.layout puts repos under it: el9/qemu-master): set publish.layout: "{platform}" to keep one repo per platform, or move ${join(dest, 'el9')} and its generations away`,
    );
    // the old repo still serves, untouched
    expect(repoquery(join(dest, 'el9'), cache)).toEqual(['kappa-0:1.0-1.noarch']);
    expect(readdirSync(join(dest, 'el9.o1')).sort()).toEqual(['Packages', 'index.html', 'packages.json', 'patchline-el9-qemu-master.repo', 'repodata']);
  });

  test('a layout that mixes platforms, nests one repo in another, or leaves the destination is refused when the config loads', () => {
    const dir = join(base, 'bad-layouts');
    const two = (publish: object, branches?: string[]) => {
      const file = branchesConfig(dir, publish, branches);
      const raw = JSON.parse(readFileSync(file, 'utf8'));
      raw.platforms.push({ name: 'f40', builder: 'local' });
      writeFileSync(file, JSON.stringify(raw));
      return () => loadConfig(file);
    };
    expect(two({ layout: '{repo}-{branch}' }, ['master'])).toThrow('publish.layout: "{repo}-{branch}" puts platforms el9 and f40 into one repo "qemu-master": put {platform} in it');
    expect(two({}, ['stable', 'stable/2.1'])).toThrow('publish.layout: "{platform}/{repo}-{branch}" gives "el9/qemu-stable" and "el9/qemu-stable/2.1": one repo would sit inside the other');
    expect(two({ layout: '{platform}/../{repo}' }, ['master'])).toThrow('publish.layout: "{platform}/../{repo}" gives "el9/../qemu" for qemu/master on el9: not a relative path');
    expect(two({ layout: 'status/{platform}/{branch}' }, ['master'])).toThrow('"status" is taken beside the repos (the status page, the upstream pages)');
    expect(two({ layout: '{platform}/{branch}' }, ['current'])).toThrow('publish.layout: "{platform}/{branch}" gives "el9/current" for qemu/current on el9: "el9/current" is taken by the upstream packaging (patchline upstream)');
    expect(two({ layout: '{platform}/{arch}' }, ['master'])).toThrow('publish.layout: "{platform}/{arch}": unknown placeholder {arch}');
  });

  test('the names the layout may not take are the ones the status page and the upstream packaging use', () => {
    expect(RESERVED_PUBLISH_NAMES.sort()).toEqual([STATUS_DIR, ...Object.values(PAGES)].sort());
    expect(RESERVED_PLATFORM_NAMES.sort()).toEqual(['repos', 'logs', ...LINKS].sort());
  });
});
