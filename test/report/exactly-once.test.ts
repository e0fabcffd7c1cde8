/**
 * Report mail exactly once across crashes (docs/decisions/mail-exactly-once.md). A child process
 * (dist/src/report/deliver.js: build with `npx tsc -p tsconfig.json` first) delivers an outbox of
 * three mails to a real smtp-server and is SIGKILLed at a chosen point; a new process resumes.
 * The server delivers every message it accepts into a real dovecot's Maildir, so the delivery
 * check's IMAP search is the real one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { storeMails, type Outbox } from '../../src/report/outbox.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';

const DIST = join(process.cwd(), 'dist', 'src', 'report');
const SMTP_PASSWORD = 'smtp-test-pass';

/** The child: deliverOutbox with the real smtpSender, killing itself at `killAt` (`before-intent:N`, `after-250:N`). */
const CHILD = `
import { deliverOutbox } from ${JSON.stringify(join(DIST, 'deliver.js'))};
import { smtpSender } from ${JSON.stringify(join(DIST, 'smtp.js'))};
import { deliveryCheckFor } from ${JSON.stringify(join(DIST, 'delivery-check.js'))};
const { runDir, smtp, config, includeUnknown, killAt } = JSON.parse(process.argv[2]);
const real = smtpSender(smtp, '/');
let opens = 0;
let sends = 0;
const sender = {
  // open() comes right before a mail's intent is written; the 250 has arrived when send() resolves
  async open() { await real.open(); if (killAt === 'before-intent:' + ++opens) process.kill(process.pid, 'SIGKILL'); },
  async send(raw, envelope) { const r = await real.send(raw, envelope); if (killAt === 'after-250:' + ++sends) process.kill(process.pid, 'SIGKILL'); return r; },
  close() { real.close(); },
};
const log = { info: (l) => process.stderr.write(l + '\\n'), warn: (l) => process.stderr.write('warning: ' + l + '\\n') };
const check = config ? deliveryCheckFor(config, '/') : undefined;
try {
  process.stdout.write(JSON.stringify(await deliverOutbox(runDir, sender, log, { includeUnknown, check })));
} finally {
  sender.close();
}
`;

interface MailServer {
  port: number;
  /** Message-IDs of the messages accepted (answered 250), in order. */
  accepted: string[];
  /** What to do with mail n (Subject: report n) once its DATA is complete, before answering (default: accept). */
  plan: (n: number) => { accept: boolean; kill?: boolean; drop?: boolean };
  /** Called at AUTH and at each MAIL FROM (the outbox can be looked at then). */
  onCommand: (command: 'AUTH' | 'MAIL FROM') => void;
  close(): Promise<void>;
}

const messageIdOf = (raw: Buffer): string => /^Message-ID:\s*(\S+)/im.exec(raw.toString('latin1'))![1]!;

/** A real SMTP server that writes each message it accepts into `maildir`, as a list's archive would. */
async function startMailServer(maildir: string, kill: () => Promise<void>): Promise<MailServer> {
  const owner = statSync(maildir);
  for (const sub of ['tmp', 'new', 'cur']) {
    mkdirSync(join(maildir, sub), { recursive: true });
    chownSync(join(maildir, sub), owner.uid, owner.gid);
  }
  const state: MailServer = {
    port: 0,
    accepted: [],
    plan: () => ({ accept: true }),
    onCommand: () => undefined,
    close: async () => undefined,
  };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      state.onCommand('AUTH');
      if (auth.username === 'patchline' && auth.password === SMTP_PASSWORD) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onMailFrom(_address, _session, cb) {
      state.onCommand('MAIL FROM');
      cb();
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const plan = state.plan(Number(/^Subject: report (\d+)/m.exec(raw.toString('latin1'))?.[1]));
        if (plan.accept) {
          const name = `${Date.now()}.${randomBytes(6).toString('hex')}.test`;
          writeFileSync(join(maildir, 'tmp', name), raw);
          chownSync(join(maildir, 'tmp', name), owner.uid, owner.gid);
          renameSync(join(maildir, 'tmp', name), join(maildir, 'new', name));
          state.accepted.push(messageIdOf(raw));
        }
        const answer = () => (plan.accept ? cb() : cb(Object.assign(new Error('queue full, try later'), { responseCode: 451 })));
        // the connection breaks before the answer: the client is left not knowing
        if (plan.drop) for (const c of (server as unknown as { connections: Set<{ _socket: Socket }> }).connections) c._socket.destroy();
        else if (plan.kill) void kill().then(answer);
        else answer();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

let dovecot: Dovecot;
let server: MailServer;
let work: string;
let child: ChildProcess | undefined;

/** SIGKILL the running child and wait until it is gone. */
async function killChild(): Promise<void> {
  const c = child!;
  if (c.exitCode === null && c.signalCode === null) {
    const gone = once(c, 'exit');
    c.kill('SIGKILL');
    await gone;
  }
}

beforeAll(async () => {
  expect(existsSync(join(DIST, 'deliver.js'))).toBe(true);
  dovecot = await startDovecot();
  server = await startMailServer(dovecot.maildir, killChild);
  work = mkdtempSync(join(tmpdir(), 'pl-once-'));
  writeFileSync(join(work, 'child.mjs'), CHILD);
});
afterAll(async () => {
  await server?.close();
  await dovecot?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  server.plan = () => ({ accept: true });
  server.onCommand = () => undefined;
});

/** A run dir whose outbox holds three mails to the list, with Message-IDs no other test uses. */
function outboxOfThree(): { runDir: string; ids: string[] } {
  const runDir = mkdtempSync(join(work, 'run-'));
  const token = randomBytes(6).toString('hex');
  const mails = [1, 2, 3].map((n) => {
    const messageId = `<patchline.${token}.${n}@example.org>`;
    const raw = Buffer.from(`From: patchline <patchline@example.org>\r\nTo: list@example.org\r\nSubject: report ${n}\r\nMessage-ID: ${messageId}\r\nDate: Sat, 21 Nov 2026 02:03:04 +0000\r\n\r\nreport mail ${n}\r\n`);
    return { file: `0${n}-success-s${n}.eml`, from: 'patchline <patchline@example.org>', to: ['list@example.org'], subject: `report ${n}`, messageId, raw };
  });
  storeMails(runDir, mails);
  return { runDir, ids: mails.map((m) => m.messageId) };
}

const readOutboxFile = (runDir: string): Outbox => JSON.parse(readFileSync(join(runDir, 'report', 'mail', 'outbox.json'), 'utf8')) as Outbox;

interface Run {
  check?: { waitSeconds: number; address?: string };
  includeUnknown?: boolean;
  killAt?: string;
}

/** Run the child on the outbox; resolves with its Delivery, or 'killed'. */
async function deliver(runDir: string, run: Run = {}): Promise<Record<string, unknown> | 'killed'> {
  const config = run.check && {
    sources: [{ type: 'imap', name: 'list', host: dovecot.host, port: dovecot.port, security: 'plain', user: dovecot.user, password: { env: 'PL_TEST_IMAP_PASSWORD' } }],
    repos: {},
    report: { deliveryCheck: { source: 'list', ...run.check } },
  };
  const smtp = { host: '127.0.0.1', port: server.port, security: 'plain', user: 'patchline', password: { env: 'PL_TEST_SMTP_PASSWORD' }, from: 'patchline@example.org' };
  const args = JSON.stringify({ runDir, smtp, config, includeUnknown: run.includeUnknown, killAt: run.killAt });
  const c = (child = spawn(process.execPath, [join(work, 'child.mjs'), args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PL_TEST_SMTP_PASSWORD: SMTP_PASSWORD, PL_TEST_IMAP_PASSWORD: dovecot.password } }));
  let out = '';
  let err = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const [code, signal] = (await once(c, 'exit')) as [number | null, string | null];
  if (signal === 'SIGKILL') return 'killed';
  if (code !== 0) throw new Error(`child exited ${code}: ${err}`);
  return JSON.parse(out) as Record<string, unknown>;
}

/** How many times the server accepted each of `ids`. */
const timesAccepted = (ids: string[]): number[] => ids.map((id) => server.accepted.filter((a) => a === id).length);

describe('a crash while mail 2 is between the end of its DATA and the 250', () => {
  test('resumed with a delivery check that finds it in the mailbox: every mail accepted exactly once', async () => {
    const { runDir, ids } = outboxOfThree();
    // the outbox as it is on disk when the server sees AUTH and each MAIL FROM
    const seen: Array<{ command: string; outbox: Outbox }> = [];
    server.onCommand = (command) => seen.push({ command, outbox: readOutboxFile(runDir) });
    server.plan = (n) => ({ accept: true, kill: n === 2 });
    expect(await deliver(runDir)).toBe('killed');
    server.onCommand = () => undefined;

    // logged in before any intent; each mail's intent on disk before its MAIL FROM, the earlier ones sent
    expect(seen.map((s) => s.command)).toEqual(['AUTH', 'MAIL FROM', 'MAIL FROM']);
    const states = (o: Outbox) => o.mails.map((m) => (m.sent ? 'sent' : m.attempt ? 'attempt' : 'unsent'));
    expect(seen.map((s) => states(s.outbox))).toEqual([
      ['unsent', 'unsent', 'unsent'],
      ['attempt', 'unsent', 'unsent'],
      ['sent', 'attempt', 'unsent'],
    ]);
    const cut = readOutboxFile(runDir).mails[1]!;
    expect(cut.attempt).toBeDefined();
    expect(cut.sent).toBeUndefined();

    const d = await deliver(runDir, { check: { waitSeconds: 5 } });
    expect(timesAccepted(ids)).toEqual([1, 1, 1]);
    expect(d).toEqual({ sent: 1, unsent: 0, unknown: 0 });
    const after = readOutboxFile(runDir).mails;
    expect(after[1]!.sent!.response).toBe('found in list by Message-ID');
    expect(after.every((m) => m.sent && !m.unknown)).toBe(true);
  });

  test('resumed without a delivery check: mail 2 is unknown and not sent again; --unknown sends it', async () => {
    const { runDir, ids } = outboxOfThree();
    server.plan = (n) => ({ accept: true, kill: n === 2 });
    expect(await deliver(runDir)).toBe('killed');
    server.plan = () => ({ accept: true });

    const d = await deliver(runDir);
    expect(timesAccepted(ids)).toEqual([1, 1, 1]);
    expect(d).toEqual({ sent: 1, unsent: 0, unknown: 1 });
    const mail2 = readOutboxFile(runDir).mails[1]!;
    expect(mail2.sent).toBeUndefined();
    expect(mail2.unknown!.reason).toMatch(/^cut off during its SMTP transaction \(attempt .*\); no report.deliveryCheck/);

    // another round leaves it alone; a person's --unknown sends it
    expect(await deliver(runDir)).toEqual({ sent: 0, unsent: 0, unknown: 1 });
    expect(timesAccepted(ids)).toEqual([1, 1, 1]);
    expect(await deliver(runDir, { includeUnknown: true })).toEqual({ sent: 1, unsent: 0, unknown: 0 });
    expect(timesAccepted(ids)).toEqual([1, 2, 1]);
  });

  test('the server refused it after all and the check does not find it: sent on resume, so never lost', async () => {
    const { runDir, ids } = outboxOfThree();
    server.plan = (n) => ({ accept: n !== 2, kill: n === 2 });
    expect(await deliver(runDir)).toBe('killed');
    server.plan = () => ({ accept: true });
    expect(timesAccepted(ids)).toEqual([1, 0, 0]);

    const started = Date.now();
    const d = await deliver(runDir, { check: { waitSeconds: 1, address: 'list@example.org' } });
    expect(timesAccepted(ids)).toEqual([1, 1, 1]);
    expect(d).toEqual({ sent: 2, unsent: 0, unknown: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500); // it looked again until the wait was over
  });

  test('a check that cannot see the mail (not sent to its address) leaves it unknown', async () => {
    const { runDir, ids } = outboxOfThree();
    server.plan = (n) => ({ accept: true, kill: n === 2 });
    expect(await deliver(runDir)).toBe('killed');
    server.plan = () => ({ accept: true });
    const d = await deliver(runDir, { check: { waitSeconds: 1, address: 'other-list@example.org' } });
    expect(timesAccepted(ids)).toEqual([1, 1, 1]);
    expect(d).toEqual({ sent: 1, unsent: 0, unknown: 1 });
    expect(readOutboxFile(runDir).mails[1]!.unknown!.reason).toMatch(/not sent to other-list@example.org/);
  });
});

describe('crashes at the other points', () => {
  test('killed after connecting, before the intent of mail 2 is written: mails 2 and 3 go out on resume, once', async () => {
    const { runDir, ids } = outboxOfThree();
    expect(await deliver(runDir, { killAt: 'before-intent:2' })).toBe('killed');
    expect(readOutboxFile(runDir).mails.map((m) => [!!m.attempt, !!m.sent])).toEqual([[true, true], [false, false], [false, false]]);
    const d = await deliver(runDir);
    expect(timesAccepted(ids)).toEqual([1, 1, 1]);
    expect(d).toEqual({ sent: 2, unsent: 0, unknown: 0 });
  });

  test('killed after the 250 of mail 2, before `sent` is written: the check finds it, every mail once', async () => {
    const { runDir, ids } = outboxOfThree();
    expect(await deliver(runDir, { killAt: 'after-250:2' })).toBe('killed');
    expect(readOutboxFile(runDir).mails.map((m) => [!!m.attempt, !!m.sent])).toEqual([[true, true], [true, false], [false, false]]);
    const d = await deliver(runDir, { check: { waitSeconds: 5, address: 'list@example.org' } });
    expect(timesAccepted(ids)).toEqual([1, 1, 1]);
    expect(d).toEqual({ sent: 1, unsent: 0, unknown: 0 });
  });

  test('killed after the 250 of mail 2, no check: unknown, never sent twice', async () => {
    const { runDir, ids } = outboxOfThree();
    expect(await deliver(runDir, { killAt: 'after-250:2' })).toBe('killed');
    const d = await deliver(runDir);
    expect(timesAccepted(ids)).toEqual([1, 1, 1]);
    expect(d).toEqual({ sent: 1, unsent: 0, unknown: 1 });
  });
});

describe('failures without a crash', () => {
  test('the server refuses mail 2 (451): not ambiguous, it stays unsent and the next round sends it', async () => {
    const { runDir, ids } = outboxOfThree();
    server.plan = (n) => ({ accept: n !== 2 });
    const first = await deliver(runDir);
    expect(timesAccepted(ids)).toEqual([1, 0, 1]);
    expect(first).toMatchObject({ sent: 2, unsent: 1, unknown: 0, error: expect.stringMatching(/451 queue full/) });
    const mail2 = readOutboxFile(runDir).mails[1]!;
    expect(mail2.attempt).toBeUndefined();
    expect(mail2.unknown).toBeUndefined();
    server.plan = () => ({ accept: true });
    expect(await deliver(runDir)).toEqual({ sent: 1, unsent: 0, unknown: 0 });
    expect(timesAccepted(ids)).toEqual([1, 1, 1]);
  });

  test('the connection breaks after the DATA of mail 2: unknown without a check; with one, the next round finds it', async () => {
    const noCheck = outboxOfThree();
    server.plan = (n) => ({ accept: true, drop: n === 2 });
    expect(await deliver(noCheck.runDir)).toMatchObject({ sent: 1, unsent: 1, unknown: 1 });
    expect(readOutboxFile(noCheck.runDir).mails[1]!.unknown!.reason).toMatch(/^no answer to its SMTP transaction/);

    const checked = outboxOfThree();
    const check = { waitSeconds: 5 };
    // the check can see it, so it stays an attempt (unsent) for the next round rather than unknown
    expect(await deliver(checked.runDir, { check })).toMatchObject({ sent: 1, unsent: 2, unknown: 0 });
    server.plan = () => ({ accept: true });
    const d = await deliver(checked.runDir, { check });
    expect(timesAccepted(checked.ids)).toEqual([1, 1, 1]);
    expect(d).toEqual({ sent: 1, unsent: 0, unknown: 0 });
  });
});
