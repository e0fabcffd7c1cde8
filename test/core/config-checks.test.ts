/**
 * Config mistakes a later step would refuse are refused when the config is loaded: one ECONFIG
 * line naming the dotted path, before any step reads (and consumes) anything.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/core/config.js';
import { isSafeRefWord } from '../../src/core/config-checks.js';
import { PatchlineError } from '../../src/core/errors.js';
import { executeStep } from '../../src/core/step.js';
import { latestRunDir, readResult } from '../../src/core/results.js';
import { applySettings, pushTarget } from '../../src/apply/settings.js';
import { CORPUS_FILES, EXPECTED, corpusMessage, mboxOf, tempDir, writeConfig } from '../harvest/support.js';

const root = mkdtempSync(join(tmpdir(), 'pl-config-checks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = {
  sources: [{ type: 'mbox', name: 'list', path: 'list.mbox' }],
  repos: { q: { url: 'https://example.org/q.git', branches: ['master', 'stable-1.2'] } },
};

let n = 0;
/** Write `config` as patchline.yaml in a fresh dir and load it. */
function load(config: Record<string, unknown>): ReturnType<typeof loadConfig> {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  const file = join(dir, 'patchline.yaml');
  writeFileSync(file, stringify(config));
  return loadConfig(file);
}

/** The ECONFIG line loading `config` gives (the test fails when it loads). */
function refusal(config: Record<string, unknown>): string {
  let err: unknown;
  try {
    load(config);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PatchlineError);
  const e = err as PatchlineError;
  expect([e.code, e.exitCode]).toEqual(['ECONFIG', 2]);
  expect(e.message).toMatch(/ \(in \/.*patchline\.yaml\)$/);
  expect(e.toLine()).not.toMatch(/\n/);
  return e.message;
}

const koji = { name: 'fedora-40', builder: 'koji', target: 'f40-candidate' };
const local = { name: 'el9', builder: 'local' };

describe('a config that every step accepts loads', () => {
  test('push pattern, Koji and local platforms, remote publish with its URL, SMTP with TLS', () => {
    const config = {
      ...base,
      repos: { q: { ...base.repos.q, apply: { pushPattern: 'staging/{repo}/{branch}/{runId}' }, build: { spec: 'pkg/q.spec' } }, 'r.x': { url: 'r.git', branches: ['main', 'v1.x/fixes'] } },
      apply: { pushPattern: 'patchline/{branch}/{date}' },
      platforms: [koji, { ...local, mock: 'rocky-9-x86_64', arch: 'x86_64' }, { name: 'fedora-41', builder: 'koji', target: 'f41', profile: 'stg' }],
      build: { submit: 'scm', scmUrl: 'git+https://src.example.org/{repo}.git#{sha}', release: '0.{date}.git{shortsha}' },
      publish: { destination: 'deploy@web-1.example.org:/srv/repos', baseUrl: 'https://repos.example.org/', repoName: 'q-{platform}' },
      report: { smtp: { host: 'smtp.example.org', security: 'starttls', user: 'u', password: { env: 'X' }, from: 'p <p@example.org>' } },
      sources: [{ type: 'imap', name: 'imap', host: '127.0.0.1', security: 'plain', user: 'u', password: { env: 'X' } }],
    };
    expect(load(config).config).toEqual(config);
    // plain SMTP on loopback, submit scm with only local platforms: nothing later refuses these
    expect(() => load({ ...base, platforms: [local], build: { submit: 'scm' }, report: { smtp: { host: 'localhost', security: 'plain', from: 'p@x' } } })).not.toThrow();
  });
});

describe('apply', () => {
  test('an unknown placeholder in apply.pushPattern', () => {
    expect(refusal({ ...base, apply: { pushPattern: 'stage/{nope}' } })).toContain('apply.pushPattern: "stage/{nope}": unknown placeholder {nope} (placeholders: {repo} {branch} {date} {runId})');
  });

  test('a repo pushPattern that gives no usable branch name', () => {
    const msg = refusal({ ...base, repos: { q: { ...base.repos.q, apply: { pushPattern: 'stage/{branch}.lock' } } } });
    expect(msg).toContain('repos.q.apply.pushPattern: "stage/{branch}.lock" gives "stage/master.lock" for repo q branch master: not a usable branch name');
  });

  test('a pushPattern that is usable for some branches only (too long for one)', () => {
    const long = `topic-${'x'.repeat(88)}`;
    const msg = refusal({ ...base, apply: { pushPattern: 'staging/{repo}/{branch}' }, repos: { q: base.repos.q, r: { url: 'r', branches: ['main', long] } } });
    expect(msg).toBe(`apply.pushPattern: "staging/{repo}/{branch}" gives "staging/r/${long}" for repo r branch ${long}: not a usable branch name (letters, digits, . _ - /, at most 100; no "..", no empty part, no part starting with "." or ending with ".lock", no "." at the end) (in ${msg.split('(in ')[1]}`);
  });

  test('a pushPattern that puts two branches on one staging branch', () => {
    expect(refusal({ ...base, apply: { pushPattern: 'stage/{repo}/{date}' } })).toContain('apply.pushPattern: "stage/{repo}/{date}" gives "stage/q/2026-12-01" for branches master and stable-1.2 of repo q');
  });

  test('a pushPattern that gives another configured branch', () => {
    expect(refusal({ ...base, repos: { q: { ...base.repos.q, apply: { pushPattern: 'stable-1.2' } } } })).toContain('repos.q.apply.pushPattern: "stable-1.2" gives "stable-1.2" for branch master of repo q: that is another configured branch');
  });

  test('the run id of the real run is still checked when apply names its target', () => {
    const { config } = load({ ...base, apply: { pushPattern: 'stage/{runId}/{branch}' } });
    const settings = applySettings(config, 'q');
    expect(pushTarget(settings, { repo: 'q', branch: 'master', date: '2026-12-01', runId: '20261201T020304Z' })).toBe('stage/20261201T020304Z/master');
    expect(() => pushTarget(settings, { repo: 'q', branch: 'master', date: '2026-12-01', runId: 'my run' })).toThrow(/apply.pushPattern: "stage\/\{runId\}\/\{branch\}" gives "stage\/my run\/master"/);
  });
});

describe('repos', () => {
  test('a branch git would not take as a branch name', () => {
    expect(refusal({ ...base, repos: { q: { ...base.repos.q, branches: ['master', 'release.lock'] } } })).toContain('repos.q.branches.1: "release.lock" is not a usable branch name');
  });

  test('a repo name with ".."', () => {
    expect(refusal({ ...base, repos: { 'q..r': base.repos.q } })).toContain('repos.q..r: "q..r" is not usable as a repo name');
  });

  test('isSafeRefWord accepts only what git check-ref-format accepts', () => {
    const words = ['master', 'stable-1.2', 'v1.x/fixes', 'a./b', 'a/-b', 'a_b', 'a/.b', 'a.', 'a/b.', 'a.lock/b', 'a/b.lock', 'a//b', 'a/', 'a..b', '-a', '.a', 'a b', 'a{b}'];
    for (const word of words) {
      let git = true;
      try {
        execFileSync('git', ['check-ref-format', `refs/heads/${word}`], { stdio: 'ignore' });
      } catch {
        git = false;
      }
      if (isSafeRefWord(word)) expect([word, git]).toEqual([word, true]);
    }
    expect(words.filter(isSafeRefWord)).toEqual(['master', 'stable-1.2', 'v1.x/fixes', 'a./b', 'a/-b', 'a_b']);
  });
});

describe('build', () => {
  test('a Koji platform without a target', () => {
    expect(refusal({ ...base, platforms: [{ name: 'f', builder: 'koji' }] })).toContain('platforms.0.target: required');
  });

  test('two platforms with one name', () => {
    expect(refusal({ ...base, platforms: [koji, { ...local, name: 'fedora-40' }] })).toContain('platforms.1.name: "fedora-40" is used twice');
  });

  test('mock (a local builder setting) on a Koji platform', () => {
    expect(refusal({ ...base, platforms: [{ ...koji, mock: 'fedora-40-x86_64' }] })).toContain('platforms.0.mock: "fedora-40-x86_64" is only read for builder local; platform fedora-40 has builder koji');
  });

  test('arch on a Koji platform', () => {
    expect(refusal({ ...base, platforms: [{ ...koji, arch: 'x86_64' }] })).toContain('platforms.0.arch: "x86_64" is only read for builder local');
  });

  test('a Koji target or profile on a local platform', () => {
    const msg = refusal({ ...base, platforms: [{ ...local, target: 'el9-candidate', profile: 'stg' }] });
    expect(msg).toContain('platforms.0.target: "el9-candidate" is only read for builder koji; platform el9 has builder local');
    expect(msg).toContain('platforms.0.profile: "stg" is only read for builder koji');
  });

  test('submit scm without scmUrl when a platform is built by Koji', () => {
    expect(refusal({ ...base, platforms: [koji], build: { submit: 'scm' } })).toContain('build.scmUrl: required when build.submit is scm');
  });

  test('an unknown placeholder in build.release', () => {
    expect(refusal({ ...base, build: { release: '0.{date}.git{shortSha}' } })).toContain('build.release: "0.{date}.git{shortSha}": unknown placeholder {shortSha} (placeholders: {date} {datetime} {shortsha} {sha})');
  });

  test('an unknown placeholder in build.scmUrl', () => {
    expect(refusal({ ...base, platforms: [koji], build: { submit: 'scm', scmUrl: 'git+https://src/{name}.git#{sha}' } })).toContain('build.scmUrl: "git+https://src/{name}.git#{sha}": unknown placeholder {name} (placeholders: {repo} {sha})');
  });

  test('a spec path that is absolute or leaves the repo', () => {
    expect(refusal({ ...base, repos: { q: { ...base.repos.q, build: { spec: '/etc/q.spec' } } } })).toContain('repos.q.build.spec');
    expect(refusal({ ...base, repos: { q: { ...base.repos.q, build: { spec: 'pkg/../../q.spec' } } } })).toContain('repos.q.build.spec');
  });
});

describe('publish', () => {
  test('a remote destination without baseUrl', () => {
    expect(refusal({ ...base, publish: { destination: 'repos.example.org:/srv/repos' } })).toContain('publish.baseUrl: required when publish.destination is remote ("repos.example.org:/srv/repos")');
  });

  test('an unknown placeholder in publish.repoName', () => {
    expect(refusal({ ...base, publish: { repoName: 'q-{plat}' } })).toContain('publish.repoName: "q-{plat}": unknown placeholder {plat} (placeholders: {platform} {repo} {branch})');
  });
});

describe('report and sources', () => {
  test('plain SMTP to a host that is not loopback', () => {
    expect(refusal({ ...base, report: { smtp: { host: 'smtp.example.org', security: 'plain', from: 'p@x' } } })).toContain('report.smtp.security: "plain" (no TLS) is only allowed to a loopback host, not smtp.example.org');
  });

  test('an SMTP user without a password, or a password without a user', () => {
    expect(refusal({ ...base, report: { smtp: { host: 'smtp.example.org', user: 'u', from: 'p@x' } } })).toContain('report.smtp: must have property password when property user is present');
    expect(refusal({ ...base, report: { smtp: { host: 'smtp.example.org', password: { env: 'X' }, from: 'p@x' } } })).toContain('report.smtp: must have property user when property password is present');
  });

  test('plain IMAP to a host that is not loopback', () => {
    expect(refusal({ ...base, sources: [{ type: 'imap', name: 'list', host: 'imap.example.org', security: 'plain', user: 'u', password: { env: 'X' } }] })).toContain(
      'sources.list.security: plain IMAP is only allowed on a loopback host, not imap.example.org',
    );
  });

  test('a delivery check on a source that is not an imap source', () => {
    expect(refusal({ ...base, report: { deliveryCheck: { source: 'list' } } })).toContain('report.deliveryCheck.source: "list" is not an imap source (imap sources: none)');
  });

  test('two sources with one name', () => {
    expect(refusal({ ...base, sources: [...base.sources, { type: 'maildir', name: 'list', path: 'Maildir' }] })).toContain('sources.1.name: "list" is used twice');
  });

  test('several mistakes: all in one line', () => {
    const msg = refusal({ ...base, apply: { pushPattern: '{nope}' }, publish: { destination: 'h:/x' }, platforms: [koji, koji] });
    expect(msg.split('; ').map((l) => l.split(':')[0])).toEqual(['apply.pushPattern', 'platforms.1.name', 'publish.baseUrl']);
  });
});

describe('harvest with a config apply would refuse', () => {
  test('exits 2 and consumes nothing; once the pattern is fixed the same mail is harvested', async () => {
    const dir = tempDir('config-checks');
    const state = join(dir, 'state');
    const mbox = join(dir, 'list.mbox');
    writeFileSync(mbox, mboxOf(CORPUS_FILES.map(corpusMessage)));
    const sources = [{ type: 'mbox', name: 'list', path: mbox }];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await executeStep('harvest', { config: writeConfig(dir, sources, { apply: { pushPattern: 'stage/{nope}' } }), stateDir: state, quiet: true })).toBe(2);
      expect(stderr.mock.calls.map(([line]) => String(line)).join('')).toMatch(/^patchline: ECONFIG apply\.pushPattern: "stage\/\{nope\}": unknown placeholder \{nope\}/m);
    } finally {
      stderr.mockRestore();
    }
    expect(existsSync(join(state, 'cursors'))).toBe(false);
    expect(existsSync(join(state, 'harvest'))).toBe(false);
    expect(existsSync(join(state, 'archive'))).toBe(false);

    expect(await executeStep('harvest', { config: writeConfig(dir, sources, { apply: { pushPattern: 'stage/{branch}/{date}' } }), stateDir: state, quiet: true })).toBe(0);
    const result = readResult(latestRunDir(state)!, 'harvest');
    expect(result.counts.seen).toBe(CORPUS_FILES.length);
    const patches = EXPECTED.messages.filter((m) => m.kind === 'patch' && m.route !== null).map((m) => m.message_id);
    expect(result.series.flatMap((s) => s.patches.map((p) => p.messageId)).sort()).toEqual(expect.arrayContaining(patches));
    expect(result.series.some((s) => s.status === 'ready')).toBe(true);
    expect(readdirSync(join(state, 'cursors'))).toEqual(['list.json']);
  });
});
