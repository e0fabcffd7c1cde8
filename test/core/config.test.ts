import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, validateConfig, type Config } from '../../src/core/config.js';
import { PatchlineError } from '../../src/core/errors.js';
import { spawnSync } from 'node:child_process';
import { readSecret, redact } from '../../src/core/secrets.js';

function configError(raw: unknown): string {
  try {
    validateConfig(raw, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PatchlineError);
    expect((err as PatchlineError).code).toBe('ECONFIG');
    expect((err as PatchlineError).exitCode).toBe(2);
    return (err as PatchlineError).message;
  }
  throw new Error('config was accepted');
}

const minimal: Config = {
  sources: [{ type: 'mbox', name: 'list', path: 'all.mbox' }],
  repos: { qemu: { url: 'https://example.org/qemu.git', branches: ['master'] } },
};

describe('config validation', () => {
  test('a minimal typed config is valid', () => {
    expect(validateConfig(minimal)).toEqual(minimal);
  });

  test('an IMAP source with a password from env is valid', () => {
    const c: Config = {
      ...minimal,
      sources: [{ type: 'imap', name: 'imap', host: '127.0.0.1', port: 1143, security: 'plain', user: 'u', password: { env: 'IMAP_PASSWORD' } }],
    };
    expect(validateConfig(c)).toEqual(c);
  });

  test('sources and repos: required for the mail pipeline; a config for upstream packaging or tracking only may leave them out', () => {
    expect(configError({ repos: minimal.repos })).toBe('sources: required (where the mail comes from; only a config with upstream: or tracking: may leave it out) (in test.yaml)');
    expect(configError({})).toContain('sources: required (where the mail comes from; only a config with upstream: or tracking: may leave it out); repos: required (the git repos the patches go to;');
    const upstreamOnly = { upstream: { projects: { nova: { upstream: 'nova.git', distgit: 'nova-distgit.git', spec: 'nova.spec' } } } };
    expect(validateConfig(upstreamOnly)).toEqual({ ...upstreamOnly, sources: [], repos: {} });
    const trackingOnly = { tracking: { reviewTo: ['list@example.org'] } };
    expect(validateConfig(trackingOnly)).toEqual({ ...trackingOnly, sources: [], repos: {} });
  });

  test('a mail pipeline step on a config for upstream packaging only: exit 2 with one line, before anything is read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pl-config-upstream-only-'));
    const file = join(dir, 'patchline.yaml');
    writeFileSync(file, 'upstream:\n  projects:\n    nova: { upstream: nova.git, distgit: nova-distgit.git, spec: nova.spec }\n');
    const r = spawnSync(process.execPath, ['dist/src/cli.js', 'harvest', '--config', file], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`patchline: ECONFIG sources: none configured: the mail pipeline (harvest, apply, build, test, publish, report, run) needs sources: and repos: (this config is for patchline upstream / patchline track only) (in ${file}) [${file}]\n`);
    expect(existsSync(join(dir, '.patchline'))).toBe(false);
  });

  test('a missing repo url names the dotted path', () => {
    expect(configError({ ...minimal, repos: { qemu: { branches: ['master'] } } })).toContain('repos.qemu.url: required');
  });

  test('an unknown key is named', () => {
    expect(configError({ ...minimal, repos: { qemu: { url: 'x', branches: ['m'], brnches: [] } } })).toContain('repos.qemu.brnches: unknown key');
  });

  test('a password written in the file is refused', () => {
    const msg = configError({ ...minimal, sources: [{ type: 'imap', name: 'i', host: 'h', user: 'u', password: 'hunter2' }] });
    expect(msg).toContain('sources.0.password');
    expect(msg).not.toContain('hunter2');
  });

  test('a source type outside the enum lists the choices', () => {
    expect(configError({ ...minimal, sources: [{ type: 'pop3', name: 'p' }] })).toContain('sources.0.type: expected one of imap, mbox, maildir');
  });

  test('a branch word with shell metacharacters is refused', () => {
    expect(configError({ ...minimal, repos: { qemu: { url: 'x', branches: ['master;rm -rf /'] } } })).toContain('repos.qemu.branches.0');
  });

  test('a bad subjectPattern regex is named', () => {
    expect(configError({ ...minimal, sources: [{ type: 'mbox', name: 'l', path: 'x', subjectPattern: '(?<branch' }] })).toContain('sources.0.subjectPattern');
  });

  test('loadConfig resolves the state dir beside the config file and reports YAML errors with a line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pl-config-'));
    const file = join(dir, 'patchline.yaml');
    writeFileSync(file, 'sources:\n  - type: mbox\n    name: l\n    path: a.mbox\nrepos:\n  q:\n    url: x\n    branches: [master]\n');
    expect(loadConfig(file).stateDir).toBe(join(dir, '.patchline'));
    writeFileSync(file, 'sources: [\n');
    expect(() => loadConfig(file)).toThrow(/not valid YAML/);
    expect(() => loadConfig(join(dir, 'nope.yaml'))).toThrow(/no such file/);
  });
});

describe('secrets', () => {
  test('read from env or file, and redacted from output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pl-secret-'));
    writeFileSync(join(dir, 'pw'), 's3cret-from-file\n');
    expect(readSecret({ file: 'pw' }, 'imap password', dir)).toBe('s3cret-from-file');
    expect(readSecret({ env: 'X_PW' }, 'smtp password', dir, { X_PW: 'env-s3cret' })).toBe('env-s3cret');
    expect(redact('login with env-s3cret and s3cret-from-file')).toBe('login with *** and ***');
    expect(() => readSecret({ env: 'NOPE_NOT_SET' }, 'imap password', dir, {})).toThrow(/NOPE_NOT_SET is not set/);
  });
});
