import { existsSync, readFileSync, readlinkSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { repoquery } from '../publish/rpm-fixture.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { removeDir, tempDir } from '../support/git-fixtures.js';
import type { UpstreamBuildRecord } from '../../src/upstream/types.js';
import { BROKEN, GOOD, commit, makeProject, records, runCli, writeUpstreamConfig, type Project } from './world.js';

/**
 * Two upstream projects, each with its dist-git; 12 upstream commits over four runs, one that
 * breaks alpha's build and a later one that fixes it, one with HTML in its subject. Real git,
 * the sandboxed rpmbuild, createrepo_c, dnf, an SMTP server on loopback.
 */
describe('patchline upstream: a repo per commit, current and consistent, one failure and one recovery mail', () => {
  let root: string;
  let smtp: TestSmtpServer;
  let alpha: Project;
  let beta: Project;
  let config: string;
  const state = () => join(root, 'state');
  const pub = () => join(root, 'pub', 'el9');
  const link = (name: string) => readlinkSync(join(pub(), name));
  const run = (...args: string[]) => runCli(['upstream', '--config', config, ...args]);
  const newest = (project: string, status?: string): UpstreamBuildRecord | undefined =>
    records(state()).filter((r) => r.project === project && !r.bisect && (!status || r.status === status)).pop();

  /** Every success has its complete repo; current is the newest success; dnf on current sees both projects' newest good NVR. */
  function checkRepos(): void {
    const all = records(state());
    for (const r of all.filter((x) => x.status === 'SUCCESS' && !x.bisect)) {
      expect(r.repoPath).toBe(`el9/repos/${r.commit.sha.slice(0, 2)}/${r.commit.sha.slice(2, 4)}/${r.commit.sha}_${r.distgitSha.slice(0, 8)}`);
      for (const f of ['repodata/repomd.xml', 'build.log', 'versions.csv', 'patchline-upstream-el9.repo', ...r.rpms]) expect(existsSync(join(root, 'pub', r.repoPath!, f))).toBe(true);
    }
    const lastOk = all.filter((x) => x.status === 'SUCCESS' && !x.bisect).pop()!;
    expect(link('current')).toBe(lastOk.repoPath!.slice('el9/'.length));
    const names = repoquery(realpathSync(join(pub(), 'current')), root);
    const want = ['alpha', 'beta'].map((p) => newest(p, 'SUCCESS')!.nvr!);
    expect(names.map((n) => n.replace(/-0:/, '-').replace(/\.noarch$/, '')).sort()).toEqual(want.sort());
    expect(readdirSync(pub()).filter((f) => f.startsWith('.staging') || f.includes('.tmp-'))).toEqual([]);
  }

  beforeAll(async () => {
    root = tempDir('pl-upstream-');
    smtp = await startSmtpServer();
    alpha = await makeProject(root, 'alpha');
    beta = await makeProject(root, 'beta');
    config = writeUpstreamConfig(root, [alpha, beta], { smtpPort: smtp.port });
  });
  afterAll(async () => {
    await smtp.close();
    if (!process.env.KEEP_UPSTREAM_TEST) removeDir(root);
    else process.stderr.write(`kept ${root}\n`);
  });

  test('four runs over 12 commits', async () => {
    // run 1: the first run builds each project's head only
    let r = await run();
    expect(r.stderr).not.toMatch(/patchline: E/);
    expect(`${r.stderr}exit ${r.code}`).toMatch(/exit 0$/);
    expect(records(state())).toHaveLength(2);
    checkRepos();
    const consistent1 = link('consistent');
    expect(consistent1).toBe(link('current'));

    // run 2: 3 + 2 new commits, one subject carrying HTML: every one built, oldest first
    const a1 = await commit(alpha.upstream, 'alpha: one', GOOD(1));
    const html = await commit(alpha.upstream, 'alpha: <b>bold</b> & <script>alert(1)</script>', GOOD(2));
    const a3 = await commit(alpha.upstream, 'alpha: three', GOOD(3));
    await commit(beta.upstream, 'beta: one', GOOD(1));
    await commit(beta.upstream, 'beta: two', GOOD(2));
    r = await run();
    expect(`${r.stderr}exit ${r.code}`).toMatch(/exit 0$/);
    const built2 = records(state()).slice(2);
    expect(built2.map((x) => x.commit.sha).slice(0, 3)).toEqual([a1, html, a3]);
    expect(built2.every((x) => x.status === 'SUCCESS')).toBe(true);
    expect(records(state()).find((x) => x.commit.sha === html)!.commit.subject).toBe('alpha: <b>bold</b> & <script>alert(1)</script>');
    checkRepos();
    expect(link('consistent')).toBe(link('current'));
    // a repo holds its build and every other project's newest good RPMs, and says so in versions.csv
    const csv = readFileSync(join(pub(), 'current', 'versions.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('Project,Source Sha,Dist Sha,NVR,Status,Last Success');
    expect(csv).toContain(`alpha,${a3},`);
    expect(smtp.received).toHaveLength(0);

    // run 3: alpha breaks (and stays broken), beta moves on: one failure mail naming the breaking commit
    const bad = await commit(alpha.upstream, 'alpha: break the shell', BROKEN);
    await commit(alpha.upstream, 'alpha: still broken', { ...BROKEN, 'README': 'x\n' });
    const b3 = await commit(beta.upstream, 'beta: three', GOOD(3));
    r = await run();
    expect(`${r.stderr}exit ${r.code}`).toMatch(/exit 3$/); // partly failed
    const failed = records(state()).filter((x) => x.status === 'FAILED');
    expect(failed).toHaveLength(2);
    expect(failed.every((x) => x.firstBadCommit?.sha === bad)).toBe(true);
    expect(failed[0]!.failure).toMatchObject({ step: 'rpmbuild' });
    expect(failed[0]!.failure!.signature).toBe(failed[1]!.failure!.signature);
    expect(existsSync(join(root, 'pub', failed[0]!.log!))).toBe(true);
    checkRepos();
    expect(link('current')).toContain(b3); // beta's success moved current
    expect(link('consistent')).not.toContain(b3); // alpha's failure held consistent back
    expect(smtp.received).toHaveLength(1);
    const failureMail = smtp.received[0]!.raw.toString();
    expect(failureMail).toMatch(/Subject: \[patchline upstream\] alpha \(el9\): build FAILED/);
    expect(failureMail).toContain(`first bad commit ${bad.slice(0, 12)}`);
    expect(smtp.received[0]!.to.sort()).toEqual(['alpha-dev@example.org', 'team@example.org']);
    const junit = readFileSync(join(/run dir (\S+)/.exec(r.stderr)![1]!, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase classname="upstream.alpha" name="el9">\s*<failure/);
    expect(junit).toMatch(/<testcase classname="upstream.beta" name="el9">\s*<system-out>SUCCESS/);

    // run 4: the fix and one more for alpha, two for beta: one recovery mail, consistent moves again
    const fix = await commit(alpha.upstream, 'alpha: fix the shell', GOOD(4));
    await commit(alpha.upstream, 'alpha: five', GOOD(5));
    await commit(beta.upstream, 'beta: four', GOOD(4));
    const b5 = await commit(beta.upstream, 'beta: five', GOOD(5));
    r = await run();
    expect(`${r.stderr}exit ${r.code}`).toMatch(/exit 0$/);
    expect(records(state()).filter((x) => !x.bisect)).toHaveLength(2 + 5 + 3 + 4);
    checkRepos();
    expect(link('current')).toContain(b5);
    expect(link('consistent')).toBe(link('current'));
    expect(smtp.received).toHaveLength(2);
    const recovery = smtp.received[1]!.raw.toString();
    expect(recovery).toMatch(/Subject: \[patchline upstream\] alpha \(el9\): builds again, fixed by/);
    expect(recovery).toContain(fix.slice(0, 12));

    // a run with nothing new builds nothing and mails nothing; the queue says why
    r = await run();
    expect(`${r.stderr}exit ${r.code}`).toMatch(/exit 0$/);
    expect(records(state()).filter((x) => !x.bisect)).toHaveLength(14);
    expect(smtp.received).toHaveLength(2);
    const queue = JSON.parse(readFileSync(join(state(), 'upstream', 'queue.json'), 'utf8'));
    expect(queue.projects).toEqual([
      { project: 'alpha', queued: 0, idle: 'up to date' },
      { project: 'beta', queued: 0, idle: 'up to date' },
    ]);
    expect(existsSync(join(root, 'pub', 'report.html'))).toBe(true);
  });
});
