import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { ApplyResult } from '../../src/apply/types.js';
import type { Config, PlatformConfig, BuildConfig } from '../../src/core/config.js';

/** A tiny noarch shell package in a real git repo, a config and an apply.json that builds it. */
export interface PackageOptions {
  /** Replaces the %build body. */
  buildScript?: string;
  /** Extra preamble lines (e.g. a BuildRequires). */
  preamble?: string[];
  /** Leave Name: out of the spec. */
  noName?: boolean;
  /** Lines after %setup in %prep. */
  prep?: string[];
  /** Where the spec lives in the repo (default hello.spec), and more files to commit (path -> text). */
  specPath?: string;
  files?: Record<string, string>;
  /** Tag the first commit with this (for build.version git-describe). */
  tag?: string;
  platforms?: PlatformConfig[];
  build?: BuildConfig;
}

export interface PackageFixture {
  dir: string;
  configFile: string;
  stateDir: string;
  runDir: string;
  repoDir: string;
  sha: string;
  messageIds: string[];
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'A U Thor', GIT_AUTHOR_EMAIL: 'a@example.org', GIT_COMMITTER_NAME: 'C O Mitter', GIT_COMMITTER_EMAIL: 'c@example.org', GIT_COMMITTER_DATE: '2026-11-21T10:00:00Z', GIT_AUTHOR_DATE: '2026-11-21T10:00:00Z' },
  });
}

export function helloSpec(opts: PackageOptions = {}): string {
  return [
    ...(opts.noName ? [] : ['Name: hello']),
    'Version: 1.0',
    'Release: 1%{?dist}',
    'Summary: test package',
    'License: MIT',
    'BuildArch: noarch',
    'Source0: %{name}-%{version}.tar.gz',
    ...(opts.preamble ?? []),
    '',
    '%description',
    'test package',
    '',
    '%prep',
    '%setup -q',
    ...(opts.prep ?? []),
    '',
    '%build',
    opts.buildScript ?? 'sh -n hello.sh',
    '',
    '%install',
    'mkdir -p %{buildroot}/usr/bin',
    'install -m 755 hello.sh %{buildroot}/usr/bin/hello',
    '',
    '%files',
    '/usr/bin/hello',
    '',
    '%changelog',
    '* Mon Jan 01 2024 Test <test@example.com> - 1.0-1',
    '- init',
    '',
  ].join('\n');
}

export function makePackageFixture(opts: PackageOptions = {}): PackageFixture {
  const dir = mkdtempSync(join(tmpdir(), 'patchline-build-'));
  const stateDir = join(dir, 'state');
  const repoDir = join(stateDir, 'repos', 'hello');
  mkdirSync(repoDir, { recursive: true });
  git(repoDir, 'init', '-q', '-b', 'master');
  writeFileSync(join(repoDir, 'hello.sh'), '#!/bin/sh\necho hello\n');
  const specPath = opts.specPath ?? 'hello.spec';
  for (const [path, text] of Object.entries({ ...opts.files, [specPath]: helloSpec(opts) })) {
    mkdirSync(dirname(join(repoDir, path)), { recursive: true });
    writeFileSync(join(repoDir, path), text);
  }
  git(repoDir, 'add', '.');
  git(repoDir, 'commit', '-q', '-m', 'hello');
  if (opts.tag) git(repoDir, 'tag', '-a', '-m', opts.tag, opts.tag);
  writeFileSync(join(repoDir, 'hello.sh'), '#!/bin/sh\necho hello, patched\n');
  git(repoDir, 'commit', '-q', '-am', 'say more');
  const sha = git(repoDir, 'rev-parse', 'HEAD').trim();
  const base = git(repoDir, 'rev-parse', 'HEAD~1').trim();
  const messageIds = ['1.patch@example.org'];
  const config: Config = {
    stateDir: 'state',
    sources: [{ type: 'mbox', name: 'list', path: 'list.mbox' }],
    repos: { hello: { url: repoDir, branches: ['master'], build: { spec: specPath, package: 'hello' } } },
    ...(opts.platforms ? { platforms: opts.platforms } : {}),
    build: { pollInterval: 0.05, ...opts.build },
  };
  const configFile = join(dir, 'patchline.yaml');
  writeFileSync(configFile, stringify(config));
  const runDir = join(stateDir, 'runs', '20261121T100000Z');
  mkdirSync(runDir, { recursive: true });
  const apply: ApplyResult = {
    runId: '20261121T100000Z',
    startedAt: '2026-11-21T10:00:00.000Z',
    finishedAt: '2026-11-21T10:00:01.000Z',
    dryRun: false,
    branches: [{ repo: 'hello', branch: 'master', target: 'master', baseCommit: base, head: sha, pushed: true, retried: false }],
    series: [
      {
        id: 'hello/master/say-more-v1',
        repo: 'hello',
        branch: 'master',
        status: 'applied',
        baseCommit: base,
        commits: [{ sha, subject: 'say more', messageId: messageIds[0]!, number: 1 }],
        alreadyApplied: [],
      },
    ],
  };
  writeFileSync(join(runDir, 'apply.json'), JSON.stringify(apply, null, 2));
  return { dir, configFile, stateDir, runDir, repoDir, sha, messageIds };
}
