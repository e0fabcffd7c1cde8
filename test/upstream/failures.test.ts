import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from '../support/git-fixtures.js';
import { BROKEN, GOOD, commit, makeProject, records, runCli, upstreamSpec, writeUpstreamConfig } from './world.js';

const exitOf = (r: { stderr: string; code: number | null }) => `${r.stderr}exit ${r.code}`;

describe('patchline upstream: bisection, RETRY, dist-git changes, --recheck', () => {
  let root: string;
  beforeEach(() => {
    root = tempDir('pl-upstream-f-');
  });
  afterEach(() => removeDir(root));

  test('--head-only over 8 new commits with a break in the middle: the bisection names the breaking commit in at most 4 builds', async () => {
    const p = await makeProject(root, 'gamma');
    const config = writeUpstreamConfig(root, [p]);
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    const shas: string[] = [];
    for (let i = 1; i <= 8; i++) shas.push(await commit(p.upstream, `gamma: change ${i}`, i >= 5 ? { ...BROKEN, n: `${i}\n` } : GOOD(i)));
    const r = await runCli(['upstream', '--config', config, '--head-only']);
    expect(exitOf(r)).toMatch(/exit 1$/);
    const built = records(join(root, 'state')).slice(1);
    expect(built.length).toBeLessThanOrEqual(4);
    const head = built.find((x) => !x.bisect)!;
    expect(head.commit.sha).toBe(shas[7]);
    expect(head.status).toBe('FAILED');
    expect(head.firstBadCommit).toMatchObject({ sha: shas[4], subject: 'gamma: change 5', author: { name: 'Fixture Author', email: 'author@example.org' } });
    expect(built.filter((x) => x.bisect).every((x) => !x.repoPath)).toBe(true);
    // without SMTP the mail is the .eml in the outbox; it names the first bad commit
    const box = join(root, 'state', 'upstream', 'mail', 'report', 'mail');
    const emls = readdirSync(box).filter((f) => f.endsWith('.eml'));
    expect(emls).toHaveLength(1);
    expect(readFileSync(join(box, emls[0]!), 'utf8')).toContain(`First bad commit: ${shas[4]!.slice(0, 12)}`);
  });

  test('the packaging broke it: the last good upstream commit fails with the new dist-git, and the bisection names the dist-git commit', async () => {
    const p = await makeProject(root, 'theta');
    const config = writeUpstreamConfig(root, [p]);
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    const spec = upstreamSpec('theta');
    await commit(p.distgit, 'packaging: summary', { 'theta.spec': spec.replace('upstream test package', 'upstream test package, new summary') });
    const breaking = await commit(p.distgit, 'packaging: run the test suite', { 'theta.spec': spec.replace('sh -n main.sh', 'sh -n main.sh && false') });
    await commit(p.distgit, 'packaging: a comment', { 'theta.spec': `# packaged for the team\n${spec.replace('sh -n main.sh', 'sh -n main.sh && false')}` });
    for (let i = 1; i <= 3; i++) await commit(p.upstream, `theta: change ${i}`, GOOD(i));
    const r = await runCli(['upstream', '--config', config, '--head-only']);
    expect(exitOf(r)).toMatch(/exit 1$/);
    const built = records(join(root, 'state')).slice(1);
    // the failure, the last good upstream commit with the new dist-git, then 2 builds over the 3 dist-git commits
    expect(built.length).toBeLessThanOrEqual(4);
    const head = built.find((x) => !x.bisect)!;
    expect(head.status).toBe('FAILED');
    expect(head.firstBadCommit).toMatchObject({ sha: breaking, subject: 'packaging: run the test suite', packaging: true });
    const box = join(root, 'state', 'upstream', 'mail', 'report', 'mail');
    // the text part, its quoted-printable soft line breaks undone
    const eml = readFileSync(join(box, readdirSync(box).find((f) => f.endsWith('.eml'))!), 'utf8').replace(/=\r?\n/g, '');
    expect(eml).toContain(`First bad packaging (dist-git) commit: ${breaking.slice(0, 12)} "packaging: run the test suite"`);
    // the upstream's commitUrl does not link a dist-git commit
    expect(eml).not.toContain(`commit/${breaking}`);
    const status = await runCli(['upstream', 'status', '--config', config]);
    expect(status.stdout).toContain(`first bad packaging (dist-git) commit: ${breaking.slice(0, 12)} packaging: run the test suite`);
  });

  test('a log matching a retry pattern is RETRY, built again next run; consistent does not move meanwhile', async () => {
    const p = await makeProject(root, 'delta');
    const q = await makeProject(root, 'eps');
    let config = writeUpstreamConfig(root, [p, q]);
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    const pub = join(root, 'pub', 'el9');
    const consistent = readlinkSync(join(pub, 'consistent'));
    const sha = await commit(p.upstream, 'delta: one', GOOD(1));
    // the mirror "fails": %build prints a DNS error while the platform's dist is .flaky (outside the commit)
    config = writeUpstreamConfig(root, [p, q], { dist: '.flaky' });
    let r = await runCli(['upstream', '--config', config]);
    expect(exitOf(r)).toMatch(/exit 3$/);
    let last = records(join(root, 'state')).pop()!;
    expect(last).toMatchObject({ status: 'RETRY', retries: 0, transient: 'Could not resolve host' });
    expect(readlinkSync(join(pub, 'consistent'))).toBe(consistent);
    const queue = JSON.parse(readFileSync(join(root, 'state', 'upstream', 'queue.json'), 'utf8'));
    expect(queue.queue).toEqual([expect.objectContaining({ project: 'delta', why: 'retry 1 of 3' })]);
    // the mirror is back: the same pair is built again and succeeds; consistent moves to it
    config = writeUpstreamConfig(root, [p, q]);
    r = await runCli(['upstream', '--config', config]);
    expect(exitOf(r)).toMatch(/exit 0$/);
    last = records(join(root, 'state')).pop()!;
    expect(last).toMatchObject({ status: 'SUCCESS', retries: 1, commit: { sha } });
    expect(last.id).toMatch(/#1$/);
    expect(readlinkSync(join(pub, 'consistent'))).toBe(last.repoPath!.slice('el9/'.length));
    expect(existsSync(join(root, 'state', 'upstream', 'mail'))).toBe(false); // a RETRY mails nobody
  });

  test('retries run out: FAILED, and the queue says "retries exhausted"', async () => {
    const p = await makeProject(root, 'zeta');
    const config = writeUpstreamConfig(root, [p], { dist: '.flaky', upstream: { maxRetries: 1 } });
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 3$/);
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 1$/);
    expect(records(join(root, 'state')).map((r) => r.status)).toEqual(['RETRY', 'FAILED']);
    const queue = JSON.parse(readFileSync(join(root, 'state', 'upstream', 'queue.json'), 'utf8'));
    expect(queue.projects[0]).toMatchObject({ project: 'zeta', queued: 0, idle: 'retries exhausted' });
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    expect(records(join(root, 'state'))).toHaveLength(2);
  });

  test('a dist-git change alone rebuilds the head; a built pair is never built again, except by --recheck', async () => {
    const p = await makeProject(root, 'eta');
    const config = writeUpstreamConfig(root, [p]);
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    expect(records(join(root, 'state'))).toHaveLength(1);
    const dg = await commit(p.distgit, 'packaging: summary', { 'eta.spec': upstreamSpec('eta').replace('upstream test package', 'upstream test package, new summary') });
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    const all = records(join(root, 'state'));
    expect(all).toHaveLength(2);
    expect(all[1]!.distgitSha).toBe(dg);
    expect(all[1]!.commit.sha).toBe(all[0]!.commit.sha);
    const r = await runCli(['upstream', '--config', config, '--recheck', `eta@${all[0]!.commit.sha.slice(0, 10)}`]);
    expect(exitOf(r)).toMatch(/exit 1$/); // same NVR as the last success: not higher, nothing published
    const again = records(join(root, 'state'));
    expect(again).toHaveLength(3);
    expect(again[2]).toMatchObject({ status: 'FAILED', failure: { step: 'nvr-order' } });
    expect(again[2]!.id).toMatch(/#recheck-/);
    expect(exitOf(await runCli(['upstream', '--config', config, '--recheck', 'nope@abc']))).toMatch(/EUSAGE.*exit 2$/s);
  });

  test('killed right after a build was recorded (before the project state moved): the re-run does not build it again', async () => {
    const p = await makeProject(root, 'iota');
    const config = writeUpstreamConfig(root, [p]);
    // kill points of a success: built (1), repo (2), recorded (3)
    const killed = await runCli(['upstream', '--config', config], { PATCHLINE_UPSTREAM_KILL_AT: '3' });
    expect(killed.signal).toBe('SIGKILL');
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    const lines = readFileSync(join(root, 'state', 'upstream', 'builds.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(readlinkSync(join(root, 'pub', 'el9', 'current'))).toBe(records(join(root, 'state'))[0]!.repoPath!.slice('el9/'.length));
  });

  test('upstream purge keeps current, consistent and each project\'s newest success, removes the rest', async () => {
    const p = await makeProject(root, 'kappa');
    const q = await makeProject(root, 'mu');
    const config = writeUpstreamConfig(root, [p, q], { upstream: { keep: { builds: 1 } } });
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    await commit(p.upstream, 'kappa: one', GOOD(1));
    await commit(p.upstream, 'kappa: two', GOOD(2));
    expect(exitOf(await runCli(['upstream', '--config', config]))).toMatch(/exit 0$/);
    const all = records(join(root, 'state'));
    expect(all).toHaveLength(4);
    const r = await runCli(['upstream', 'purge', '--config', config]);
    expect(exitOf(r)).toMatch(/exit 0$/);
    expect(r.stderr).toContain('el9: 2 repos removed');
    const kept = all.filter((x) => existsSync(join(root, 'pub', x.repoPath!)));
    // kappa's newest (current and consistent) and mu's only success, which newer repos link from
    expect(kept.map((x) => x.commit.subject).sort()).toEqual(['base', 'kappa: two']);
    expect(kept.find((x) => x.project === 'mu')).toBeDefined();
    expect(existsSync(join(root, 'pub', 'el9', 'current', 'repodata', 'repomd.xml'))).toBe(true);
  });

  test('a project whose clone fails is shown as "clone failed"; the others are built', async () => {
    const p = await makeProject(root, 'nu');
    const q = await makeProject(root, 'xi');
    const config = writeUpstreamConfig(root, [p, { ...q, upstreamRemote: join(root, 'no-such-repo.git') }]);
    const r = await runCli(['upstream', '--config', config]);
    expect(exitOf(r)).toMatch(/exit 3$/);
    expect(r.stderr).toMatch(/xi: clone failed: git clone/);
    expect(records(join(root, 'state')).map((x) => x.project)).toEqual(['nu']);
    const queue = JSON.parse(readFileSync(join(root, 'state', 'upstream', 'queue.json'), 'utf8'));
    expect(queue.projects[1]).toMatchObject({ project: 'xi', queued: 0, idle: 'clone failed', detail: expect.stringContaining('no-such-repo.git') });
    // --dry-run says what it would build and records nothing
    await commit(p.upstream, 'nu: one', GOOD(1));
    const dry = await runCli(['upstream', '--config', config, '--project', 'nu', '--dry-run']);
    expect(exitOf(dry)).toMatch(/exit 0$/);
    expect(dry.stderr).toMatch(/would build nu el9 [0-9a-f]{12} \(new commit\) nu: one/);
    expect(records(join(root, 'state'))).toHaveLength(1);
  });
});
