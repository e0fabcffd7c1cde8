/**
 * Exactly once under crashes: `patchline track scan` (the real CLI) is SIGKILLed with its whole
 * process group (git, rpmbuild, bwrap too) at random points, then run again until it finishes.
 * After each round: no orphan tracking branch (every branch on the packaging remote belongs to a
 * mailed review), no duplicate review (each Message-ID once in the real dovecot the SMTP server
 * delivers to), every mailed review complete, and the reviewed ranges chain from the first
 * lastCommit to the upstream head with no commit skipped. PL_TRACK_KILLS=<n> runs more rounds.
 * Then a kill at each named point between the durable steps of a review (PATCHLINE_TRACK_KILL_AT).
 * Also: a scan finding the item locked by another reports it busy and touches nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireRunLock } from '../../src/run/lock.js';
import { commitFiles } from '../support/git-fixtures.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { branchesOf, maildirMessages, makePackaging, makeUpstream, runCli, startMailServer, writeTrackingConfig, type MailServer, type Upstream } from './support.js';

const ROUNDS = Number(process.env.PL_TRACK_KILLS ?? 2);

let dovecot: Dovecot;
let mail: MailServer;
let root: string;
let upstream: Upstream;
let pkg: { remote: string };
let config: string;
let env: Record<string, string>;

beforeAll(async () => {
  dovecot = await startDovecot();
  env = { PL_TEST_IMAP_PASSWORD: dovecot.password };
  mail = await startMailServer(dovecot.maildir);
  root = mkdtempSync(join(tmpdir(), 'pl-track-kill-'));
  upstream = await makeUpstream(root);
  pkg = await makePackaging(root, 'setup');
  config = writeTrackingConfig(root, { dovecot, smtpPort: mail.port, repos: { foo: { url: pkg.remote, branch: 'master' } }, deliveryCheck: true });
  const add = await runCli(['track', 'add', '--config', config, '--repo', 'foo', '--branch', 'master', '--packaging-url', pkg.remote, '--spec', 'foo.spec', '--upstream-url', upstream.remote, '--upstream-branch', 'main', '--last-commit', upstream.base]);
  expect(add.code).toBe(0);
});

afterAll(async () => {
  await mail?.close();
  await dovecot?.stop();
  if (root && !process.env.PATCHLINE_KEEP_TEMP) rmSync(root, { recursive: true, force: true });
});

interface Review {
  id: string;
  state: string;
  trackingBranch: string;
  coverMessageId?: string;
  range: { from: string; to: string };
  mails?: { total: number; sent: number };
}

/** A small seeded generator: the kill points are the same on every run of the suite. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

async function checkInvariants(head: string): Promise<void> {
  const reviews = (JSON.parse((await runCli(['track', 'reviews', '--config', config, '--json'], { env })).stdout) as Review[]).sort((a, b) => a.id.localeCompare(b.id));
  const mailed = reviews.filter((r) => r.state === 'mailed');
  expect(reviews.map((r) => r.state)).toEqual(mailed.map(() => 'mailed'));
  // no orphan: every tracking branch is a mailed review's
  expect((await branchesOf(pkg.remote)).sort()).toEqual(mailed.map((r) => r.trackingBranch).sort());
  // no duplicate mail, every review complete
  const ids = maildirMessages(dovecot.maildir).map((m) => /^Message-ID:\s*<([^>]+)>/im.exec(m)?.[1] ?? '');
  expect(new Set(ids).size).toBe(ids.length);
  // every mail in the box belongs to a mailed review: no range was mailed twice
  expect(ids.length).toBe(mailed.reduce((n, r) => n + r.mails!.total, 0));
  for (const r of mailed) {
    const prefix = r.coverMessageId!.replace(/\.0@.*$/, '.');
    expect(ids.filter((id) => id.startsWith(prefix))).toHaveLength(r.mails!.total);
  }
  // the ranges chain from the first lastCommit to the head: no commit skipped, none twice
  const byFrom = new Map(mailed.map((r) => [r.range.from, r]));
  let at = upstream.base;
  for (let n = 0; n < mailed.length; n++) at = byFrom.get(at)!.range.to;
  expect(at).toBe(head);
  const shown = JSON.parse((await runCli(['track', 'show', '--config', config, '--repo', 'foo', '--branch', 'master', '--json'], { env })).stdout) as { item: { lastCommit: string } };
  expect(shown.item.lastCommit).toBe(head);
}

test(`kill -9 at random points of a scan (${ROUNDS} rounds): no orphan branch, no duplicate review, no commit skipped`, async () => {
  const t0 = Date.now();
  const first = await runCli(['track', 'scan', '--config', config], { env });
  const full = Date.now() - t0;
  expect(first.stderr).not.toMatch(/ETRACK/);
  expect(first.code).toBe(0);
  await checkInvariants(upstream.commits[4]!);
  const random = seeded(16);
  let head = upstream.commits[4]!;
  for (let round = 0; round < ROUNDS; round++) {
    head = await commitFiles(upstream.work, `round ${round}: change`, { [`src/round${round}.c`]: `int r${round};\n` });
    await upstream.work.run(['push', '--quiet', 'origin', 'main']);
    const killAfterMs = 150 + Math.floor(random() * full);
    const killed = await runCli(['track', 'scan', '--config', config], { env, killAfterMs });
    if (process.env.PL_DEBUG) console.log(killAfterMs, killed.signal, killed.stderr.slice(-300));
    let done = await runCli(['track', 'scan', '--config', config], { env });
    // a scan cut off while mailing may leave a mail for the delivery check to settle first
    if (done.code !== 0) done = await runCli(['track', 'scan', '--config', config], { env });
    expect(`${done.code} ${done.stderr}`).toMatch(/^0 /);
    await checkInvariants(head);
  }
}, 300_000); // a loaded machine slows every scan: a timeout would leave a scan holding the item's lock for the next tests

test.each(['preparing', 'stored', 'pushed', 'recorded', 'sent', 'mailed'])('killed at %s: the next scan finishes the review exactly once', async (point) => {
  const head = await commitFiles(upstream.work, `point ${point}: change`, { [`src/point-${point}.c`]: `int ${point};\n` });
  await upstream.work.run(['push', '--quiet', 'origin', 'main']);
  const killed = await runCli(['track', 'scan', '--config', config], { env: { ...env, PATCHLINE_TRACK_KILL_AT: point } });
  expect(`${killed.signal} ${killed.stderr}`).toMatch(/^SIGKILL/);
  const done = await runCli(['track', 'scan', '--config', config], { env });
  expect(`${done.code} ${done.stderr}`).toMatch(/^0 .*foo master: reviewed/);
  await checkInvariants(head);
});

test('a scan finding the item locked reports it busy and changes nothing', async () => {
  const before = await branchesOf(pkg.remote);
  await commitFiles(upstream.work, 'busy: change', { 'src/busy.c': 'int busy;\n' });
  await upstream.work.run(['push', '--quiet', 'origin', 'main']);
  const lock = await acquireRunLock(join(root, 'state', 'tracking', 'locks', 'foo_master'), { waitMs: 0, staleMs: 60_000, command: 'test' });
  try {
    const scan = await runCli(['track', 'scan', '--config', config], { env });
    expect(scan.code).toBe(0);
    expect(scan.stderr).toMatch(/foo master: busy: another scan is working on it/);
    expect(await branchesOf(pkg.remote)).toEqual(before);
  } finally {
    lock.release();
  }
  const scan = await runCli(['track', 'scan', '--config', config], { env });
  expect(scan.code).toBe(0);
  expect(scan.stderr).toMatch(/foo master: reviewed/);
});
