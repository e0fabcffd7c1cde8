import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { approval } from '../../src/ledger/progress.js';
import type { LedgerEntry } from '../../src/ledger/types.js';
import { DEMO_SOURCE, seedRemote } from '../../src/run/demo.js';
import type { Config } from '../../src/core/config-types.js';

/**
 * The gate and the sender policy end to end on the demo package (real git, rpmbuild, createrepo_c,
 * real step processes): a series reaches its branch only after it built, and a series from an
 * untrusted sender is not built before a maintainer approves it.
 */
interface Project {
  dir: string;
  remote: string;
}

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.org' } }).trim();

/** One patch mail in the demo's subject grammar, made by git format-patch from an edit of the seeded package. */
function patchMail(p: Project, opts: { from: string; subject: string; date: string; file: string; edit: (text: string) => string; messageId: string; version?: number }): string {
  const work = mkdtempSync(join(tmpdir(), 'pl-gate-work-'));
  git(work, 'clone', '-q', p.remote, '.');
  writeFileSync(join(work, opts.file), opts.edit(readFileSync(join(work, opts.file), 'utf8')));
  git(work, 'commit', '-q', '-am', opts.subject);
  const mail = git(work, 'format-patch', '-1', '--stdout')
    .replace(/^From: .*$/m, `From: ${opts.from}`)
    .replace(/^Date: .*$/m, `Date: ${opts.date}`)
    .replace(/^Subject: .*$/m, `Message-Id: <${opts.messageId}>\nSubject: [main PATCH${opts.version ? ` v${opts.version}` : ''} hello] ${opts.subject}`);
  return mail + '\n\n';
}

async function project(mails: (p: Project) => string, trusted: string[]): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'pl-gate-'));
  for (const name of ['patchline.yaml', 'hello']) cpSync(join(DEMO_SOURCE, name), join(dir, name), { recursive: true });
  const remote = join(dir, '.work/remotes/hello.git');
  await seedRemote(remote, join(dir, 'hello'), ['main']);
  const p = { dir, remote };
  writeFileSync(join(dir, 'list.mbox'), mails(p));
  const config = join(dir, 'patchline.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace('path: mail/hello-devel.mbox', 'path: list.mbox').replace(/trustedSenders: .*$/m, `trustedSenders: ${JSON.stringify(trusted)}`));
  return p;
}

async function patchline(p: Project, ...args: string[]) {
  try {
    const r = await promisify(execFile)(process.execPath, [join(process.cwd(), 'dist/src/cli.js'), ...args, '--config', join(p.dir, 'patchline.yaml')], { encoding: 'utf8', cwd: p.dir });
    return { code: 0, stderr: r.stderr, stdout: r.stdout };
  } catch (err) {
    const e = err as { code: number; stderr: string; stdout: string };
    return { code: e.code, stderr: e.stderr, stdout: e.stdout };
  }
}

const subjects = (p: Project) => git(p.remote, 'log', '--format=%s', 'main').split('\n');
const refs = (p: Project) => git(p.remote, 'for-each-ref', '--format=%(refname)').split('\n').filter(Boolean);

const breakBuild = (spec: string) => spec.replace('%build\n', '%build\nexit 1\n');
const touchReadme = (text: string) => text + '\nMore words.\n';

describe('gate and sender policy', () => {
  test('a series that breaks %build stays on its staging ref; a good series of the same run reaches the branch (applied again on the tip when the bad one was stacked under it)', async () => {
    const p = await project(
      (q) =>
        patchMail(q, { from: 'Ada Lovelace <ada@example.org>', subject: 'hello: break the build', date: 'Fri, 20 Nov 2026 09:00:00 +0000', file: 'hello.spec', edit: breakBuild, messageId: 'bad-1@example.org' }) +
        patchMail(q, { from: 'Grace Hopper <grace@example.com>', subject: 'README: more words', date: 'Fri, 20 Nov 2026 10:00:00 +0000', file: 'README.md', edit: touchReadme, messageId: 'good-1@example.com' }),
      ['@example.org', '@example.com'],
    );
    const run = await patchline(p, 'run');
    if (process.env.DEBUG_GATE) console.log(run.stderr);
    expect(run.stderr).toMatch(/1 gated series to apply again on their moved branch \(round 2/);
    expect(subjects(p)).toEqual(['README: more words', 'hello 1.0']);
    const staged = refs(p).filter((r) => r.startsWith('refs/heads/patchline/staging/'));
    expect(staged).toHaveLength(1);
    expect(staged[0]).toMatch(/hello-break-the-build/);
    expect(git(p.remote, 'log', '-1', '--format=%s', staged[0]!)).toBe('hello: break the build');
    const status = (await patchline(p, 'status')).stdout;
    expect(status).toMatch(/failed at build \(demo\): .*hello-break-the-build/);
    expect((await patchline(p, 'run')).stderr).toMatch(/nothing to do/);
    expect(subjects(p)).toEqual(['README: more words', 'hello 1.0']);
  });

  test('a series from an untrusted sender waits on its staging ref, unbuilt, mailed once; patchline approve lets the next run build it and move the branch', async () => {
    const p = await project(
      (q) => patchMail(q, { from: 'Mallory <mallory@example.net>', subject: 'README: more words', date: 'Fri, 20 Nov 2026 10:00:00 +0000', file: 'README.md', edit: touchReadme, messageId: 'm-1@example.net' }),
      ['@example.org'],
    );
    const first = await patchline(p, 'run');
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/build: 0 builds/);
    expect(subjects(p)).toEqual(['hello 1.0']);
    expect(refs(p).some((r) => /staging\/.*readme-more-words/.test(r))).toBe(true);
    const runs = readFileSync(join(p.dir, '.work/state/runs/LATEST'), 'utf8').trim();
    const mail = readFileSync(join(p.dir, '.work/state/runs', runs, 'report/mail/01-approval-needed-' + JSON.parse((await patchline(p, 'status', '--json')).stdout).branches[0].blocked[0].id + '.eml'), 'utf8');
    expect(mail).toMatch(/^Subject: \[patchline\] hello\/main: waiting for approval: README: more words/m);
    expect((await patchline(p, 'run')).stderr).toMatch(/nothing to do/);

    const id = JSON.parse((await patchline(p, 'status', '--json')).stdout).branches[0].blocked[0].id as string;
    expect((await patchline(p, 'approve', id, '--by', 'Maint')).code).toBe(0);
    const second = await patchline(p, 'run');
    expect(second.code).toBe(0);
    expect(subjects(p)).toEqual(['README: more words', 'hello 1.0']);
    expect(refs(p).some((r) => r.includes('staging'))).toBe(false);
  });
});

describe('a new version of a series whose build failed', () => {
  test('is built (the old version is superseded and never built again), and reaches the branch', async () => {
    const p = await project(
      (q) => patchMail(q, { from: 'Ada Lovelace <ada@example.org>', subject: 'hello: quieter build', date: 'Fri, 20 Nov 2026 09:00:00 +0000', file: 'hello.spec', edit: breakBuild, messageId: 'v1-1@example.org' }),
      ['@example.org'],
    );
    const first = await patchline(p, 'run');
    expect(first.stderr).toMatch(/build: .*hello-quieter-build-v1.* failed/);
    expect(subjects(p)).toEqual(['hello 1.0']);
    // v2 of the same series, replying to v1: it fixes the spec
    const v2 = patchMail(p, { from: 'Ada Lovelace <ada@example.org>', subject: 'hello: quieter build', date: 'Sat, 21 Nov 2026 09:00:00 +0000', file: 'hello.spec', edit: (spec) => spec.replace('%build\n', '%build\ntrue\n'), messageId: 'v2-1@example.org', version: 2 });
    writeFileSync(join(p.dir, 'list.mbox'), readFileSync(join(p.dir, 'list.mbox'), 'utf8') + v2.replace(/^Subject: /m, 'In-Reply-To: <v1-1@example.org>\nReferences: <v1-1@example.org>\nSubject: '));
    const second = await patchline(p, 'run');
    expect(second.stderr).toMatch(/build: .*hello-quieter-build-v2.* built/);
    expect(second.stderr).not.toMatch(/build: .*hello-quieter-build-v1/);
    expect(subjects(p)).toEqual(['hello: quieter build', 'hello 1.0']);
    const status = JSON.parse((await patchline(p, 'status', '--json')).stdout);
    expect(status.branches[0].counts).toMatchObject({ done: 1, superseded: 1, failed: 0 });
  });
});

describe('approval', () => {
  const config = { sources: [], repos: { hello: { url: 'x', branches: ['main'] } }, apply: { trustedSenders: ['@trusted.org', 'boss@else.net'] } } as unknown as Config;
  const entry = (submitter: string, trailers: string[][]): LedgerEntry =>
    ({
      id: 's',
      repo: 'hello',
      branch: 'main',
      series: { submitter: { name: 'x', email: submitter }, patches: trailers.map((t, i) => ({ number: i + 1, author: { name: 'x', email: submitter }, trailers: t })) },
    }) as unknown as LedgerEntry;

  test('a trusted address or domain, a review of every patch by a trusted address, or patchline approve', () => {
    expect(approval(entry('dev@trusted.org', [[]]), config)).toMatch(/trusted sender/);
    expect(approval(entry('boss@else.net', [[]]), config)).toMatch(/trusted sender/);
    expect(approval(entry('dev@untrusted.org', [[]]), config)).toBeUndefined();
    expect(approval(entry('dev@nottrusted.org.evil', [[]]), config)).toBeUndefined();
    expect(approval(entry('x@evil.net', [['Reviewed-by: Boss <boss@else.net>'], ['Acked-by: A <a@trusted.org>']]), config)).toMatch(/reviewed by boss@else.net, a@trusted.org/);
    expect(approval(entry('x@evil.net', [['Reviewed-by: Boss <boss@else.net>'], []]), config)).toBeUndefined();
    expect(approval(entry('x@evil.net', [['Reviewed-by: Evil <boss@else.net.evil.net>']]), config)).toBeUndefined();
    expect(approval({ ...entry('x@evil.net', [[]]), approved: { by: 'Maint', at: 'now' } }, config)).toBe('approved by Maint');
  });
});
