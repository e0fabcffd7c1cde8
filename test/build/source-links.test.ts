import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ApplyResult } from '../../src/apply/types.js';
import { executeStep } from '../../src/core/step.js';
import { readResult } from '../../src/core/results.js';
import { makePackageFixture, type PackageFixture } from '../support/rpm-fixtures.js';

/** Item 2 of issue 14: a mail adding a symbolic link beside the spec cannot carry a host file into the package. */

const ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Mallory', GIT_AUTHOR_EMAIL: 'mallory@example.org', GIT_COMMITTER_NAME: 'Mallory', GIT_COMMITTER_EMAIL: 'mallory@example.org' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: ENV });
}

const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

/** Every file under `dir` (recursively), as bytes. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
}

/**
 * A real patch mail made with git format-patch in a scratch clone of the fixture repo, applied to
 * the clone apply works in with `git am --message-id` (what apply does), and apply.json naming
 * the new commit.
 */
function mailAndApply(f: PackageFixture, messageId: string, change: (work: string) => void): string {
  const scratch = mkdtempSync(join(tmpdir(), 'pl-links-scratch-'));
  cleanup.push(scratch);
  git(scratch, 'clone', '-q', f.repoDir, 'w');
  const work = join(scratch, 'w');
  change(work);
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'packaging: ship the notes');
  const mail = git(work, 'format-patch', '-1', '--stdout').replace(/^(From: .*)$/m, `$1\nMessage-Id: <${messageId}>`);
  const mbox = join(scratch, 'patch.mbox');
  writeFileSync(mbox, mail);
  git(f.repoDir, 'am', '-q', '--message-id', mbox);
  const sha = git(f.repoDir, 'rev-parse', 'HEAD').trim();
  const apply = JSON.parse(readFileSync(join(f.runDir, 'apply.json'), 'utf8')) as ApplyResult;
  apply.series[0]!.commits = [{ sha, subject: 'packaging: ship the notes', messageId, number: 1 }];
  apply.branches[0]!.head = sha;
  writeFileSync(join(f.runDir, 'apply.json'), JSON.stringify(apply, null, 2));
  return sha;
}

/** The spec in packaging/ gains Source1 (notes.txt) and installs it into the package. */
function shipNotes(work: string): void {
  const spec = join(work, 'packaging/hello.spec');
  const text = readFileSync(spec, 'utf8')
    .replace('Source0: %{name}-%{version}.tar.gz', 'Source0: %{name}-%{version}.tar.gz\nSource1: notes.txt')
    .replace('install -m 755 hello.sh %{buildroot}/usr/bin/hello', 'install -m 755 hello.sh %{buildroot}/usr/bin/hello\ninstall -D -m 644 %{SOURCE1} %{buildroot}/usr/share/hello/notes.txt')
    .replace('/usr/bin/hello\n\n%changelog', '/usr/bin/hello\n/usr/share/hello/notes.txt\n\n%changelog');
  writeFileSync(spec, text);
}

describe('sources beside the spec are copied without following links out of the repo', () => {
  test('a mail adding packaging/notes.txt -> a host file: the build does not start, and the error names the file and the mail', async () => {
    const f = makePackageFixture({ specPath: 'packaging/hello.spec' });
    cleanup.push(f.dir);
    const secret = `host-secret-${randomBytes(8).toString('hex')}`;
    const outside = join(f.dir, 'outside-secret.txt');
    writeFileSync(outside, `${secret}\n`);
    mailAndApply(f, 'leak-1@example.org', (work) => {
      symlinkSync(outside, join(work, 'packaging/notes.txt'));
      shipNotes(work);
    });

    const code = await executeStep('build', { config: f.configFile, runDir: f.runDir, quiet: true });
    expect(code).toBe(1);
    const [b] = readResult(f.runDir, 'build').builds;
    expect(b).toMatchObject({ state: 'failed', rpms: [], error: { code: 'ESPEC', input: 'leak-1@example.org' } });
    expect(b!.srpm).toBeUndefined();
    expect(b!.message).toContain(`packaging/notes.txt is a symbolic link to ${outside}, outside the repository`);
    expect(b!.message).toContain('added by the mail <leak-1@example.org>');
    expect(b!.durationSeconds).toBe(0); // nothing ran
    // the host file is nowhere in what the run wrote
    for (const file of filesUnder(f.runDir)) expect(readFileSync(file).includes(secret)).toBe(false);
    expect(existsSync(join(f.runDir, 'build/hello_master_say-more-v1/source/SOURCES/notes.txt'))).toBe(false);
  });

  test('a chain of links that ends outside (notes.txt -> ../doc/notes -> ../../../../x) is caught too', async () => {
    const f = makePackageFixture({ specPath: 'packaging/hello.spec' });
    cleanup.push(f.dir);
    mailAndApply(f, 'leak-2@example.org', (work) => {
      execFileSync('mkdir', ['-p', join(work, 'doc')]);
      symlinkSync('../../../../outside-secret.txt', join(work, 'doc/notes'));
      symlinkSync('../doc/notes', join(work, 'packaging/notes.txt'));
      shipNotes(work);
    });
    const code = await executeStep('build', { config: f.configFile, runDir: f.runDir, quiet: true });
    expect(code).toBe(1);
    const [b] = readResult(f.runDir, 'build').builds;
    expect(b!.message).toMatch(/^packaging\/notes\.txt is a symbolic link to \.\.\/doc\/notes -> \.\.\/\.\.\/\.\.\/\.\.\/outside-secret\.txt, outside the repository: added by the mail <leak-2@example\.org> \(commit [0-9a-f]+\)/);
  });

  test('a link that stays in the repo is copied as the file it names, and the package builds', async () => {
    const f = makePackageFixture({ specPath: 'packaging/hello.spec', files: { 'doc/notes.txt': 'shared notes\n' } });
    cleanup.push(f.dir);
    mailAndApply(f, 'fine-1@example.org', (work) => {
      symlinkSync('../doc/notes.txt', join(work, 'packaging/notes.txt'));
      shipNotes(work);
    });
    const code = await executeStep('build', { config: f.configFile, runDir: f.runDir, quiet: true });
    const [b] = readResult(f.runDir, 'build').builds;
    expect(b!.message).toBeUndefined();
    expect(code).toBe(0);
    const copied = join(f.runDir, 'build/hello_master_say-more-v1/source/SOURCES/notes.txt');
    expect(statSync(copied, { throwIfNoEntry: false })?.isFile()).toBe(true);
    expect(readFileSync(copied, 'utf8')).toBe('shared notes\n');
    const files = execFileSync('rpm', ['-qlp', join(f.runDir, b!.rpms[0]!)], { encoding: 'utf8' });
    expect(files).toContain('/usr/share/hello/notes.txt');
  });
});
