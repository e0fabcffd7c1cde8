import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildRecord } from '../../src/build/types.js';
import type { LedgerEntry } from '../../src/ledger/types.js';

/** A file of a test package: text written from the spec's sources, a copy of a host file, or a symlink. */
export type PackageFile = { text: string; mode?: string } | { host: string; mode?: string } | { symlink: string };

export interface PackageSpec {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  /** noarch (default), or the host's arch for packages holding host binaries. */
  arch?: string;
  files: Record<string, PackageFile>;
  requires?: string[];
  provides?: string[];
  /** %post body. */
  post?: string;
  /** rpm's automatic Requires/Provides (off for packages holding host binaries). */
  autoReqProv?: boolean;
}

/** A real binary RPM built by rpmbuild -bb under `topdir`; its absolute path. */
export function buildPackage(topdir: string, p: PackageSpec): string {
  const src = join(topdir, 'SOURCES', `${p.name}-${p.version}-${p.release}`);
  mkdirSync(src, { recursive: true });
  mkdirSync(join(topdir, 'SPECS'), { recursive: true });
  const install: string[] = [];
  Object.entries(p.files).forEach(([path, f], i) => {
    if ('symlink' in f) install.push(`mkdir -p "$(dirname %{buildroot}${path})"`, `ln -s ${f.symlink} %{buildroot}${path}`);
    else if ('host' in f) install.push(`install -D -m ${f.mode ?? '0755'} ${f.host} %{buildroot}${path}`);
    else {
      writeFileSync(join(src, `f${i}`), f.text);
      install.push(`install -D -m ${f.mode ?? '0644'} ${join(src, `f${i}`)} %{buildroot}${path}`);
    }
  });
  const spec = [
    '%global debug_package %{nil}',
    '%global __os_install_post %{nil}',
    `Name: ${p.name}`,
    ...(p.epoch ? [`Epoch: ${p.epoch}`] : []),
    `Version: ${p.version}`,
    `Release: ${p.release}`,
    'Summary: A patchline test package',
    'License: MIT',
    'URL: https://example.org/',
    `BuildArch: ${p.arch ?? 'noarch'}`,
    ...(p.autoReqProv === false ? ['AutoReqProv: no'] : []),
    ...(p.requires ?? []).map((r) => `Requires: ${r}`),
    ...(p.provides ?? []).map((r) => `Provides: ${r}`),
    '',
    '%description',
    'A package the test step checks.',
    '',
    '%install',
    ...install,
    '',
    ...(p.post ? ['%post', p.post, ''] : []),
    '%files',
    ...Object.keys(p.files),
    '',
    '%changelog',
    '* Mon Jan 01 2024 Test <test@example.com> - 1.0-1',
    '- init',
    '',
  ].join('\n');
  const file = join(topdir, 'SPECS', `${p.name}-${p.version}-${p.release}.spec`);
  writeFileSync(file, spec);
  execFileSync('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${topdir}`, file], { stdio: 'pipe' });
  const arch = p.arch ?? 'noarch';
  return join(topdir, 'RPMS', arch, `${p.name}-${p.version}-${p.release}.${arch}.rpm`);
}

/** The host's uname -m (the arch of a package holding host binaries). */
export const hostArch = (): string => execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();

/**
 * A base system small enough to build in a test: the host's dash (as /bin/sh) with the C library
 * and the dynamic linker it needs, so dnf runs scriptlets in the root and test commands run there.
 */
export function minibase(topdir: string): string {
  const ld = execFileSync('sh', ['-c', 'ldd /bin/dash'], { encoding: 'utf8' });
  const libs = [...ld.matchAll(/(\/\S+)/g)].map((m) => m[1]!).filter((p) => p.startsWith('/'));
  const files: Record<string, PackageFile> = { '/usr/bin/dash': { host: '/bin/dash' }, '/usr/bin/sh': { symlink: 'dash' }, '/bin': { symlink: 'usr/bin' }, '/lib': { symlink: 'usr/lib' }, '/lib64': { symlink: 'usr/lib64' } };
  for (const lib of libs) files[lib.replace(/^\/(lib|lib64)\//, '/usr/$1/')] = { host: lib };
  return buildPackage(topdir, { name: 'minibase', version: '1', release: '1', arch: hostArch(), autoReqProv: false, provides: ['/bin/sh'], files });
}

/** A yum repo (createrepo_c) of these RPMs in `dir`. */
export function yumRepo(dir: string, rpms: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const r of rpms) execFileSync('cp', [r, dir]);
  execFileSync('createrepo_c', ['-q', dir]);
  return dir;
}

/** A ledger entry of a series applied and built on `platform` with these RPMs (what the build step records). */
export function builtEntry(id: string, rpms: string[], opts: { platform?: string; closed?: boolean } = {}): LedgerEntry {
  const [repo = '', branch = ''] = id.split('/');
  const platform = opts.platform ?? 'p';
  const record: BuildRecord = { seriesId: id, repo, branch, platform, builder: 'local', state: 'built', rpms, logs: [], durationSeconds: 1 };
  const at = '2026-12-01T00:00:00Z';
  return {
    id,
    repo,
    branch,
    version: 1,
    status: 'ready',
    harvested: { run: '20261201T000000Z', at },
    series: { id, repo, branch, version: 1, total: 1, status: 'ready', patches: [] },
    apply: { run: '20261201T000000Z', at, result: { id, repo, branch, status: 'applied', commits: [{ sha: 'a'.repeat(40), subject: 's', messageId: `${id}@example.org`, number: 1 }], alreadyApplied: [] } },
    builds: { [platform]: { run: '20261201T000000Z', at, record, inputs: '' } },
    published: {},
    // a maintainer's approval (issue 14 item 3): only approved series are built and tested
    approved: { by: 'maintainer@example.org', at },
    ...(opts.closed ? { closed: { run: '20261201T000000Z', at, why: 'done' as const } } : {}),
  };
}
