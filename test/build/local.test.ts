import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { executeStep } from '../../src/core/step.js';
import type { BuildResult } from '../../src/build/types.js';
import { readResult } from '../../src/core/results.js';
import { makePackageFixture, type PackageFixture } from '../support/rpm-fixtures.js';

const fixtures: PackageFixture[] = [];
afterAll(() => {
  for (const f of fixtures) rmSync(f.dir, { recursive: true, force: true });
});

async function runBuild(f: PackageFixture): Promise<{ code: number; result: BuildResult }> {
  fixtures.push(f);
  const code = await executeStep('build', { config: f.configFile, runDir: f.runDir, quiet: true });
  const result = JSON.parse(readFileSync(join(f.runDir, 'build.json'), 'utf8')) as BuildResult;
  return { code, result };
}

describe('local builder (real rpmbuild)', () => {
  test('builds the applied commit with a snapshot release and a changelog naming the series', async () => {
    const f = makePackageFixture();
    const { code, result } = await runBuild(f);
    expect(code).toBe(0);
    expect(result.builds).toHaveLength(1);
    const b = result.builds[0]!;
    expect(b).toMatchObject({ seriesId: 'hello/master/say-more-v1', platform: 'local', builder: 'local', state: 'built', commit: f.sha });
    const release = `0.20261121100000.git${f.sha.slice(0, 7)}`;
    expect(b.rpms).toEqual([expect.stringMatching(new RegExp(`hello-1\\.0-${release}\\.noarch\\.rpm$`))]);
    expect(existsSync(join(f.runDir, b.rpms[0]!))).toBe(true);
    expect(b.srpm).toMatch(/\.src\.rpm$/);
    expect(readFileSync(join(f.runDir, b.logs[0]!), 'utf8')).toContain('Wrote:');
    const spec = readFileSync(join(f.runDir, 'build/hello_master_say-more-v1/source/hello.spec'), 'utf8');
    expect(spec).toContain(`Release: ${release}%{?dist}`);
    expect(spec).toMatch(/%changelog\n\* Sat Nov 21 2026 patchline <patchline@localhost> - 1\.0-0\.20261121100000\.git[0-9a-f]{7}\n- Snapshot of series hello\/master\/say-more-v1 .*\n- Message-ID: <1\.patch@example\.org>\n\n\* Mon Jan 01 2024/);
  });

  test('patches kept beside a spec in a packaging dir of the repo are in SOURCES', async () => {
    const patch = ['--- a/hello.sh', '+++ b/hello.sh', '@@ -1,2 +1,2 @@', ' #!/bin/sh', '-echo hello, patched', '+echo hello, packaged', ''].join('\n');
    const f = makePackageFixture({ specPath: 'rpm/hello.spec', files: { 'rpm/packaging.patch': patch }, preamble: ['Patch0: packaging.patch'], prep: ['%patch -P 0 -p1'] });
    const { code, result } = await runBuild(f);
    expect(result.builds[0]!.message).toBeUndefined();
    expect(code).toBe(0);
    expect(readFileSync(join(f.runDir, 'build/hello_master_say-more-v1/source/SOURCES/packaging.patch'), 'utf8')).toBe(patch);
    // the clone apply works in is left as it was
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: f.repoDir, encoding: 'utf8' })).toBe('');
  });

  test('Version from git describe: the spec, the tarball prefix and the RPM all carry it', async () => {
    const f = makePackageFixture({ tag: 'v2.3.1', build: { version: 'git-describe', release: '0.{date}.{shortsha}' } });
    const { code, result } = await runBuild(f);
    expect(code).toBe(0);
    expect(result.builds[0]!.rpms).toEqual([expect.stringMatching(new RegExp(`/hello-2\\.3\\.1-0\\.20261121\\.${f.sha.slice(0, 7)}\\.noarch\\.rpm$`))]);
  });

  test('a failing %build fails the build with rpmbuild\'s message and its build.log', async () => {
    const f = makePackageFixture({ buildScript: 'echo compiling; exit 3' });
    const { code, result } = await runBuild(f);
    expect(code).toBe(1);
    const b = result.builds[0]!;
    expect(b.state).toBe('failed');
    expect(b.message).toMatch(/Bad exit status .*%build/);
    expect(readFileSync(join(f.runDir, b.logs[0]!), 'utf8')).toContain('compiling');
  });

  test('a missing BuildRequires fails with the "Failed build dependencies" lines', async () => {
    const f = makePackageFixture({ preamble: ['BuildRequires: no-such-devel-package >= 2'] });
    const { code, result } = await runBuild(f);
    expect(code).toBe(1);
    expect(result.builds[0]!.message).toBe('Failed build dependencies: no-such-devel-package >= 2 is needed by hello-1.0-0.20261121100000.git' + f.sha.slice(0, 7) + '.noarch');
  });

  test('a spec without Name is ESPEC before anything is built: the series fails on every platform and waits', async () => {
    const f = makePackageFixture({ noName: true });
    fixtures.push(f);
    const code = await executeStep('build', { config: f.configFile, runDir: f.runDir, quiet: true });
    expect(code).toBe(1);
    const build = readResult(f.runDir, 'build');
    expect(build.builds).toHaveLength(1);
    expect(build.builds[0]).toMatchObject({ state: 'failed', rpms: [], error: { code: 'ESPEC' } });
    expect(build.builds[0]!.durationSeconds).toBe(0); // nothing ran
  });
});
