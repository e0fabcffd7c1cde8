/**
 * The loop closes end to end: an upstream with five new first-parent commits (one a merge) is
 * scanned for two packaging repos (%setup + %patch, and %autosetup); each gets a tracking branch
 * with the patch files and spec lines (rpmbuild -bp passed in the sandbox, else nothing is
 * pushed), a review series lands in a real dovecot through SMTP, and patchline's own harvest and
 * apply steps (the real step binaries, the dovecot mailbox as source) put the series on the
 * packaging branch: its tree becomes the tracking branch's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Git } from '../../src/git/git.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { DIST, branchesOf, maildirMessages, makePackaging, makeUpstream, runCli, startMailServer, writeTrackingConfig, type MailServer, type Upstream } from './support.js';


let dovecot: Dovecot;
let mail: MailServer;
let root: string;
let upstream: Upstream;
let setup: { remote: string; work: Git };
let auto: { remote: string; work: Git };
let config: string;
const env = { PL_TEST_IMAP_PASSWORD: '' };

beforeAll(async () => {
  expect(existsSync(join(DIST, 'steps', 'track-scan.js'))).toBe(true);
  dovecot = await startDovecot();
  env.PL_TEST_IMAP_PASSWORD = dovecot.password;
  mail = await startMailServer(dovecot.maildir);
  root = mkdtempSync(join(tmpdir(), 'pl-track-loop-'));
  upstream = await makeUpstream(root);
  setup = await makePackaging(root, 'setup');
  auto = await makePackaging(root, 'autosetup');
  config = writeTrackingConfig(root, { dovecot, smtpPort: mail.port, repos: { foo: { url: setup.remote, branch: 'master' }, 'foo-auto': { url: auto.remote, branch: 'master' } } });
  for (const [repo, p] of [
    ['foo', setup],
    ['foo-auto', auto],
  ] as const) {
    const r = await runCli(['track', 'add', '--config', config, '--repo', repo, '--branch', 'master', '--packaging-url', p.remote, '--spec', 'foo.spec', '--upstream-url', upstream.remote, '--upstream-branch', 'main', '--last-commit', upstream.base]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }
});

afterAll(async () => {
  await mail?.close();
  await dovecot?.stop();
  if (root && !process.env.PATCHLINE_KEEP_TEMP) rmSync(root, { recursive: true, force: true });
});

const show = async (git: Git, rev: string, path: string): Promise<string> => (await git.run(['show', `${rev}:${path}`])).stdout;

test('scan: a tracking branch per packaging repo, rpmbuild -bp passed, the series mailed, harvest + apply put it on the branch', async () => {
  const scan = await runCli(['track', 'scan', '--config', config, '--json']);
  expect(scan.stderr).not.toMatch(/ETRACK/);
  expect(scan.code).toBe(0);
  const summary = JSON.parse(scan.stdout) as { items: Array<{ repo: string; outcome: string }> };
  expect(summary.items.map((i) => `${i.repo} ${i.outcome}`).sort()).toEqual(['foo reviewed', 'foo-auto reviewed']);

  for (const [p, style] of [
    [setup, 'setup'],
    [auto, 'autosetup'],
  ] as const) {
    const branches = await branchesOf(p.remote);
    expect(branches).toHaveLength(1);
    expect(branches[0]).toMatch(/^patch-tracking\/master\/\d{8}T\d{6}Z$/);
    const git = new Git(p.remote);
    const tb = branches[0]!;
    // one commit per upstream commit, then the Release bump
    const log = (await git.output(['log', '--format=%s', `master..${tb}`])).split('\n').reverse();
    expect(log).toEqual(['Add upstream patch: util: return x + 2', 'Add upstream patch: Add a NEWS file', "Add upstream patch: Merge branch 'side'", 'Add upstream patch: main: print nothing', 'Add upstream patch: README: say more', `Track upstream main ${upstream.base.slice(0, 12)}..${upstream.commits[4]!.slice(0, 12)}`]);
    const files = (await git.output(['ls-tree', '--name-only', tb])).split('\n');
    const added = files.filter((f) => /^000[3-7]-.*\.patch$/.test(f));
    expect(added).toEqual(['0003-util-return-x-2.patch', '0004-Add-a-NEWS-file.patch', '0005-Merge-branch-side.patch', '0006-main-print-nothing.patch', '0007-README-say-more.patch']);
    const spec = await show(git, tb, 'foo.spec');
    // PatchN after the last Patch line, numbered above the highest
    expect(spec).toContain('Patch1: 0002-packaging-note.patch\nPatch2: 0003-util-return-x-2.patch\nPatch3: 0004-Add-a-NEWS-file.patch\nPatch4: 0005-Merge-branch-side.patch\nPatch5: 0006-main-print-nothing.patch\nPatch6: 0007-README-say-more.patch\n');
    if (style === 'setup') expect(spec).toContain('%patch -P 1 -p1\n%patch -P 2 -p1\n%patch -P 3 -p1\n%patch -P 4 -p1\n%patch -P 5 -p1\n%patch -P 6 -p1\n');
    else expect(spec).not.toMatch(/^%patch/m);
    expect(spec).toMatch(/^Release: 4%\{\?dist\}$/m);
    expect(spec).toMatch(new RegExp(`^%changelog\\n\\* \\w{3} \\w{3} \\d{2} \\d{4} Patch Tracking <tracking@example.org> - 1.0-4\\n- Track upstream main ${upstream.base.slice(0, 12)}..${upstream.commits[4]!.slice(0, 12)} \\(5 commits, 5 patches\\)`, 'm'));
    // format-patch files: author, date and message kept; the merge is one patch against its first parent
    const c1 = await show(git, tb, '0003-util-return-x-2.patch');
    expect(c1).toMatch(/^From: Fixture Author <author@example.org>$/m);
    expect(c1).toMatch(/^Date: Sun, 1 Jan 2023 00:00:00 \+0000$/m);
    expect(c1).toContain('A longer body\nwith two lines.');
    const merge = await show(git, tb, '0005-Merge-branch-side.patch');
    expect(merge).toContain(`this patch is the merge ${upstream.merge}`);
    expect(merge).toMatch(/side: add helper/);
    expect(merge).toMatch(/^diff --git a\/docs\/helper.txt/m);
    expect(merge).toMatch(/^diff --git a\/src\/helper.c/m);
    // git am takes the merge patch on the upstream's first parent
    const am = mkdtempSync(join(tmpdir(), 'pl-track-am-'));
    spawnSync('git', ['clone', '--quiet', upstream.remote, am]);
    spawnSync('git', ['-C', am, 'checkout', '--quiet', `${upstream.merge}^1`]);
    const r = spawnSync('git', ['-C', am, '-c', 'user.name=t', '-c', 'user.email=t@example.org', 'am', '--quiet'], { input: merge });
    expect(r.stderr.toString()).toBe('');
    expect(spawnSync('git', ['-C', am, 'diff', '--quiet', 'HEAD', upstream.merge]).status).toBe(0);
    rmSync(am, { recursive: true, force: true });
  }

  // the series in the mailbox: per repo a cover 0/6 and six patches threaded to it
  const mails = maildirMessages(dovecot.maildir);
  expect(mails).toHaveLength(14);
  for (const repo of ['foo', 'foo-auto']) {
    const subjects = mails.map((m) => /^Subject: (.*)$/m.exec(m)?.[1] ?? '').filter((s) => s.startsWith(`[master PATCH ${repo} `));
    expect(subjects.sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => expect.stringContaining(`[master PATCH ${repo} ${n}/6]`)));
  }
  const cover = mails.find((m) => /^Subject: \[master PATCH foo 0\/6\]/m.test(m))!;
  const coverText = cover.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  expect(coverText).toContain('https://git.example.org/foo/log/?h=patch-tracking/master/');
  expect(coverText).toContain(`${upstream.base}..${upstream.commits[4]}`);
  const coverId = /^Message-ID:\s*<([^>]+)>/im.exec(cover)![1]!;
  expect(mails.filter((m) => m.includes(`In-Reply-To: <${coverId}>`))).toHaveLength(6);

  // the review records say mailed, and lastCommit moved to the upstream head
  const list = await runCli(['track', 'show', '--config', config, '--repo', 'foo', '--branch', 'master', '--json']);
  const shown = JSON.parse(list.stdout) as { item: { lastCommit: string }; reviews: Array<{ state: string; coverMessageId: string }> };
  expect(shown.item.lastCommit).toBe(upstream.commits[4]);
  expect(shown.reviews.map((r) => r.state)).toEqual(['mailed']);
  expect(shown.reviews[0]!.coverMessageId).toBe(coverId);

  // patchline's own pipeline: harvest the list, apply onto the packaging branches
  const harvest = spawnSync(process.execPath, [join(DIST, 'steps', 'harvest.js'), '--config', config], { env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(harvest.status).toBe(0);
  const apply = spawnSync(process.execPath, [join(DIST, 'steps', 'apply.js'), '--config', config], { env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(apply.stderr).not.toMatch(/error|EAPPLY/i);
  expect(apply.status).toBe(0);
  if (process.env.PL_DEBUG) console.log(harvest.stderr, apply.stderr);
  for (const p of [setup, auto]) {
    const git = new Git(p.remote);
    const [tb] = await branchesOf(p.remote);
    expect((await git.run(['diff', '--quiet', 'master', tb!], { allowFailure: true })).code).toBe(0);
    expect((await git.output(['log', '--format=%s', '-7', 'master'])).split('\n')).toContain("Add upstream patch: Merge branch 'side'");
  }

  // a second scan finds nothing new: no branch, no mail
  const again = await runCli(['track', 'scan', '--config', config]);
  expect(again.code).toBe(0);
  expect(again.stderr).toMatch(/foo master: up to date/);
  expect(maildirMessages(dovecot.maildir)).toHaveLength(14);
  expect(await branchesOf(setup.remote)).toHaveLength(1);
});
