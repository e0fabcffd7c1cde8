/** Upstream test fixtures: real upstream and dist-git repos, a config, the CLI run as a child process. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Git } from '../../src/git/git.js';
import { openUpstreamStore } from '../../src/upstream/store.js';
import type { UpstreamBuildRecord } from '../../src/upstream/types.js';
import { makeRemote, writeTree } from '../support/git-fixtures.js';
import { runCli as runPatchline, type CliResult } from '../support/cli.js';


/** A trivial noarch package whose %build checks main.sh's syntax (a commit breaks it with bad shell) and fails as a network error while the platform's dist is `.flaky`. */
export function upstreamSpec(name: string): string {
  return [
    `Name: ${name}`,
    'Version: 1.0',
    'Release: 1',
    'Summary: upstream test package',
    'License: MIT',
    'BuildArch: noarch',
    'Source0: %{name}-%{version}.tar.gz',
    '',
    '%description',
    'upstream test package',
    '',
    '%prep',
    '%setup -q',
    '',
    '%build',
    'if [ "%{?dist}" = ".flaky" ]; then echo "curl: (6) Could not resolve host: mirror.example.org"; exit 1; fi',
    'sh -n main.sh',
    '',
    '%install',
    `mkdir -p %{buildroot}/usr/share/${name}`,
    `install -m 644 main.sh %{buildroot}/usr/share/${name}/main.sh`,
    '',
    '%files',
    `/usr/share/${name}`,
    '',
    '%changelog',
    '* Mon Jan 01 2024 Test <test@example.com> - 1.0-1',
    '- init',
    '',
  ].join('\n');
}

export interface Project {
  name: string;
  upstream: Git;
  upstreamRemote: string;
  distgit: Git;
  distgitRemote: string;
}

let clock = Date.parse('2026-01-01T00:00:00Z');

/** A commit with a committer date one minute after the previous one (Release holds the commit time). */
export async function commit(work: Git, subject: string, files: Record<string, string>): Promise<string> {
  clock += 60_000;
  const date = new Date(clock).toISOString();
  writeTree(work.dir, files);
  await work.run(['add', '-A']);
  await work.run(['commit', '--quiet', '-m', subject], { env: { GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date } });
  await work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/master']);
  return (await work.revParse('HEAD'))!;
}

export const GOOD = (n: number): Record<string, string> => ({ 'main.sh': `echo ${n}\n` });
export const BROKEN = { 'main.sh': 'if then fi (\n' };

export async function makeProject(root: string, name: string): Promise<Project> {
  const up = await makeRemote(join(root, name, 'upstream'), GOOD(0));
  const dg = await makeRemote(join(root, name, 'distgit'), { [`${name}.spec`]: upstreamSpec(name) });
  return { name, upstream: up.work, upstreamRemote: up.remote, distgit: dg.work, distgitRemote: dg.remote };
}

export function writeUpstreamConfig(root: string, projects: Project[], extra: { dist?: string; smtpPort?: number; upstream?: Record<string, unknown> } = {}): string {
  const path = join(root, 'patchline.yaml');
  mkdirSync(root, { recursive: true });
  const cfg = {
    stateDir: 'state',
    // a config for upstream packaging only: no sources or repos of the mail pipeline
    platforms: [{ name: 'el9', builder: 'local', ...(extra.dist ? { dist: extra.dist } : {}) }],
    publish: { destination: 'pub' },
    report: {
      recipients: ['team@example.org'],
      ...(extra.smtpPort ? { smtp: { host: '127.0.0.1', port: extra.smtpPort, security: 'plain', from: 'patchline <patchline@example.org>' } } : {}),
    },
    upstream: {
      projects: Object.fromEntries(projects.map((p) => [p.name, { upstream: p.upstreamRemote, distgit: p.distgitRemote, spec: `${p.name}.spec`, maintainers: [`${p.name}-dev@example.org`] }])),
      commitUrl: 'https://git.example.org/{project}/commit/{sha}',
      ...extra.upstream,
    },
  };
  writeFileSync(path, stringify(cfg));
  return path;
}

/** The CLI with extra environment variables (test/support/cli.ts). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runPatchline(args, { env });
}

export function records(stateDir: string): UpstreamBuildRecord[] {
  const store = openUpstreamStore(stateDir);
  const all = store.all();
  store.close();
  return all;
}
