import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A real (tiny, noarch) RPM built by rpmbuild -bb under `topdir`; returns its path. */
export function buildRpm(topdir: string, name: string, version: string, release = '1'): string {
  mkdirSync(join(topdir, 'SPECS'), { recursive: true });
  const spec = join(topdir, 'SPECS', `${name}-${version}-${release}.spec`);
  writeFileSync(spec, [`Name: ${name}`, `Version: ${version}`, `Release: ${release}`, 'Summary: patchline test package', 'License: MIT', 'BuildArch: noarch', '%description', 'A test package.', '%files', ''].join('\n'));
  execFileSync('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${topdir}`, spec], { stdio: 'pipe' });
  return join(topdir, 'RPMS', 'noarch', `${name}-${version}-${release}.noarch.rpm`);
}

/** What dnf reads from the repo metadata at `repoPath`: `name-epoch:version-release.arch` lines, sorted (a fresh dnf cache each time). */
export function repoquery(repoPath: string, tmp: string): string[] {
  const cacheDir = mkdtempSync(join(tmp, 'dnf-cache-'));
  const out = execFileSync('dnf', ['-q', `--repofrompath=t,${repoPath}`, '--repo=t', `--setopt=cachedir=${cacheDir}`, '--setopt=reposdir=/nonexistent', '--releasever=1', 'repoquery'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  rmSync(cacheDir, { recursive: true, force: true });
  return out.split('\n').filter(Boolean).sort();
}
