/**
 * A failing IMAP login or connection ends the harvest step process promptly (issue 13, item 7):
 * the real step process (dist/steps/harvest.js, built by `npm test`) against a real dovecot with
 * a wrong password, against a port where nothing listens, and with dovecot killed mid-fetch;
 * what was harvested before the failure is kept, and a later run harvests the rest exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { HarvestResult } from '../../src/harvest/types.js';
import { freePort, imapClient, startDovecot, type Dovecot } from '../support/dovecot.js';
import { CORPUS, archiveSnapshot, tempDir, writeConfig } from './support.js';

const STEP = join(process.cwd(), 'dist', 'steps', 'harvest.js');
const WRONG = 'wrong-imap-secret';
/** A bound that catches a hang (a refused login kept the process alive for minutes), not a speed claim. */
const PROMPT_MS = 10_000;

interface StepRun {
  code: number | null;
  stderr: string;
  ms: number;
  result: HarvestResult;
}

/** Run the harvest step process; `whileRunning` is called every 2 ms until it exits. */
function runStep(config: string, state: string, password: string, whileRunning?: () => void): Promise<StepRun> {
  const start = Date.now();
  const child = spawn(process.execPath, [STEP, '--config', config, '--state-dir', state], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PL_TEST_IMAP_PASSWORD: password } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const watch = whileRunning ? setInterval(whileRunning, 2) : undefined;
  // a hang is killed well after the bound, so the test reports it instead of timing out
  const kill = setTimeout(() => child.kill('SIGKILL'), 3 * PROMPT_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(kill);
      clearInterval(watch);
      const ms = Date.now() - start;
      const run = /run dir (\S+)/.exec(stderr)?.[1];
      const result = run ? (JSON.parse(readFileSync(join(run, 'harvest.json'), 'utf8')) as HarvestResult) : ({} as HarvestResult);
      resolve({ code, stderr, ms, result });
    });
  });
}

const imapSource = (d: Dovecot, port = d.port) => ({ type: 'imap', name: 'list', host: d.host, port, security: 'plain', user: d.user, password: { env: 'PL_TEST_IMAP_PASSWORD' } });
const mbox = { type: 'mbox', name: 'corpus', path: join(CORPUS, 'all.mbox') };

describe('login and connection failures', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(() => dovecot?.stop());

  test('a refused login: exit 3 with the mbox read, exit 1 alone; one line names the source and the login, never the password', async () => {
    const dir = tempDir('prompt');
    const both = await runStep(writeConfig(dir, [imapSource(dovecot), mbox]), join(dir, 'state'), WRONG);
    expect(both.ms).toBeLessThan(PROMPT_MS);
    expect(both.code).toBe(3);
    expect(both.stderr).toMatch(new RegExp(`^warning: source list: EIMAP cannot connect to 127.0.0.1:${dovecot.port} mailbox INBOX: login refused for user lists$`, 'm'));
    expect(both.stderr).not.toContain(WRONG);
    expect(both.result.sources.map((s) => [s.name, s.seen, s.error?.code])).toEqual([['list', 0, 'EIMAP'], ['corpus', 29, undefined]]);

    const alone = tempDir('prompt');
    const one = await runStep(writeConfig(alone, [imapSource(dovecot)]), join(alone, 'state'), WRONG);
    expect(one.ms).toBeLessThan(PROMPT_MS);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/^warning: source list: EIMAP .*login refused for user lists$/m);
    expect(one.stderr).not.toContain(WRONG);
  });

  test('nothing listening on the IMAP port: exit 1 promptly', async () => {
    const dir = tempDir('prompt');
    const port = await freePort();
    const { code, stderr, ms } = await runStep(writeConfig(dir, [imapSource(dovecot, port)]), join(dir, 'state'), dovecot.password);
    expect(ms).toBeLessThan(PROMPT_MS);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^warning: source list: EIMAP cannot connect to 127.0.0.1:${port} mailbox INBOX: connection refused \\(ECONNREFUSED\\)$`, 'm'));
  });
});

/* ------------------------------------------------------------ dovecot killed mid-fetch */

/** Series of a cover and three patches, and a chatter mail after each: 5 mails a group. */
function generateMail(groups: number): Buffer[] {
  const diff = readFileSync(join(CORPUS, 'messages', '016-s2-1.eml'), 'utf8').split('\n\n').slice(1).join('\n\n');
  const mails: Buffer[] = [];
  let t = Date.UTC(2026, 0, 1);
  const mail = (id: string, subject: string, body: string, inReplyTo?: string) => {
    const date = new Date((t += 1000)).toUTCString().replace('GMT', '+0000');
    const headers = ['From: Ada Author <ada@example.org>', 'To: list@example.org', `Subject: ${subject}`, `Date: ${date}`, `Message-ID: <${id}>`, ...(inReplyTo ? [`In-Reply-To: <${inReplyTo}>`, `References: <${inReplyTo}>`] : []), 'Content-Type: text/plain; charset=UTF-8'];
    mails.push(Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}`));
  };
  for (let s = 0; s < groups; s++) {
    const cover = `prompt-${s}-0@example.org`;
    mail(cover, `[master PATCH nbdkit 0/3] prompt series ${s}`, 'A cover letter.\n');
    for (let n = 1; n <= 3; n++) mail(`prompt-${s}-${n}@example.org`, `[master PATCH nbdkit ${n}/3] prompt: change ${s}.${n}`, diff, cover);
    mail(`prompt-${s}-chatter@example.org`, `a question about plugin ${s}`, 'Hello list,\n\nhow many connections does it open by default?\n');
  }
  return mails;
}

/** Deliver straight into the Maildir (as an MDA would), then let dovecot index it. */
async function fillMailbox(d: Dovecot, mails: Buffer[]): Promise<void> {
  const owner = statSync(d.maildir);
  for (const sub of ['new', 'cur', 'tmp']) {
    mkdirSync(join(d.maildir, sub), { recursive: true });
    chownSync(join(d.maildir, sub), owner.uid, owner.gid);
  }
  mails.forEach((m, i) => writeFileSync(join(d.maildir, 'new', `${1700000000 + i}.M${i}P1.prompt`), m));
  const client = await imapClient(d);
  await client.mailboxOpen('INBOX');
  for await (const msg of client.fetch('1:*', { uid: true })) void msg;
  await client.logout();
}

/** The processes whose parent is `pid` (dovecot's master forks its services), with their names. */
function childrenOf(pid: number): Array<{ pid: number; name: string }> {
  const out: Array<{ pid: number; name: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    if (Number(fields[1]) === pid) out.push({ pid: Number(entry), name: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return out;
}

/** Bytes written so far by a process (its socket writes included). */
function bytesWritten(pid: number): number {
  try {
    return Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
  } catch {
    return 0;
  }
}

/** dovecot again, on the same config (port, mail, index), as a restarted server. */
async function restartDovecot(d: Dovecot): Promise<ChildProcess> {
  const child = spawn('/usr/sbin/dovecot', ['-F', '-c', join(d.dir, 'dovecot.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`dovecot did not start again (exit ${child.exitCode})`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(d.port, d.host, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('dovecot did not listen again');
}

test('dovecot killed mid-fetch: prompt exit, what was read is kept, and the run after it harvests the rest exactly once', async () => {
  const groups = 600;
  const mails = generateMail(groups);
  const total = mails.length;
  const dovecot = await startDovecot();
  let again: ChildProcess | undefined;
  let killed = false;
  try {
    await fillMailbox(dovecot, mails);
    const source = imapSource(dovecot);
    // the archive an uninterrupted harvest writes
    const refDir = tempDir('prompt-ref');
    const reference = await runStep(writeConfig(refDir, [source]), join(refDir, 'state'), dovecot.password);
    expect(reference.code).toBe(0);
    expect(reference.result.counts).toMatchObject({ seen: total, patch: 3 * groups, cover: groups, other: groups, duplicate: 0 });

    const dir = tempDir('prompt-kill');
    const state = join(dir, 'state');
    const config = writeConfig(dir, [source]);
    // kill every dovecot process once its imap process has written 40% of the mailbox to us
    const master = Number(readFileSync(join(dovecot.dir, 'run', 'master.pid'), 'utf8'));
    const bytes = mails.reduce((n, m) => n + m.length, 0);
    const first = await runStep(config, state, dovecot.password, () => {
      if (killed) return;
      const children = childrenOf(master);
      const written = children.filter((c) => c.name === 'imap').reduce((n, c) => n + bytesWritten(c.pid), 0);
      if (written < 0.4 * bytes) return;
      killed = true;
      for (const c of children) process.kill(c.pid, 'SIGKILL');
      process.kill(master, 'SIGKILL');
    });
    expect(killed).toBe(true);
    expect(first.ms).toBeLessThan(PROMPT_MS);
    expect(first.code).toBe(1);
    const [read] = first.result.sources;
    expect(read!.error).toMatchObject({ code: 'EIMAP', message: expect.stringMatching(/^FETCH failed on 127.0.0.1:\d+ mailbox INBOX: the connection was lost/) });
    // what arrived before the kill is in harvest.json, and the cursor stands after it (UIDs are 1..total in delivery order)
    expect(read!.seen).toBeGreaterThan(0);
    expect(read!.seen).toBeLessThan(total);
    expect(first.result.messages.map((m) => m.messageId)).toEqual(mails.slice(0, read!.seen).map((m) => /^Message-ID: (\S+)/m.exec(m.toString())![1]!.slice(1, -1)));
    expect(JSON.parse(readFileSync(join(state, 'cursors', 'list.json'), 'utf8'))).toEqual({ uidValidity: read!.uidValidity, lastUid: read!.seen });

    // dovecot is back: the rest, once
    again = await restartDovecot(dovecot);
    const second = await runStep(config, state, dovecot.password);
    expect(second.code).toBe(0);
    expect(second.result.sources[0]).toMatchObject({ seen: total - read!.seen, lastUid: total });
    expect(second.result.counts.duplicate).toBe(0);
    const ids = new Set([...first.result.messages, ...second.result.messages].map((m) => m.messageId));
    expect(ids.size).toBe(total);
    const bucket = (b: string) => first.result.counts[b as 'patch'] + second.result.counts[b as 'patch'];
    expect([bucket('patch'), bucket('cover'), bucket('other')]).toEqual([3 * groups, groups, groups]);
    expect(archiveSnapshot(state)).toEqual(archiveSnapshot(join(refDir, 'state')));
  } finally {
    if (again && again.exitCode === null && again.signalCode === null) {
      const exited = new Promise((r) => again!.once('exit', r));
      again.kill('SIGTERM');
      await exited;
    }
    // stop() would wait for the exit of the master killed above (it checks exitCode only, null after a signal)
    if (killed) rmSync(dovecot.dir, { recursive: true, force: true });
    else await dovecot.stop();
  }
});
