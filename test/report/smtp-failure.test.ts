/**
 * A failing SMTP login or connection ends the report step process promptly (issue 13, item 7):
 * the real step process (dist/steps/report.js, built by `npm test`) sends an outbox of four mails
 * (`--resend`) to a real smtp-server refusing the login, and to a port where nothing listens.
 * The .eml files stay unsent.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readOutbox, storeMails } from '../../src/report/outbox.js';
import { closedPort, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { reportWorld } from './support.js';

const STEP = join(process.cwd(), 'dist', 'steps', 'report.js');
const WRONG = 'wrong-smtp-secret';
/** Bounds that catch a hang (nodemailer's own timeouts are 15 s and more), not speed claims. */
const PROMPT_MS = 10_000;

const smtpConfig = (port: number) => ({ host: '127.0.0.1', port, security: 'plain' as const, user: 'patchline', password: { env: 'PL_TEST_SMTP_PASSWORD' }, from: 'patchline <patchline@example.org>' });

/** Run the report step process; resolves with its exit code, stderr and how long it took to exit. */
function runStep(configFile: string, runDir: string): Promise<{ code: number | null; stderr: string; ms: number }> {
  const start = Date.now();
  const child = spawn(process.execPath, [STEP, '--config', configFile, '--run-dir', runDir, '--resend', runDir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PL_TEST_SMTP_PASSWORD: WRONG } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // a hang is killed well after the bound, so the test reports it instead of timing out
  const kill = setTimeout(() => child.kill('SIGKILL'), 3 * PROMPT_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stderr, ms: Date.now() - start });
    });
  });
}

/** A run dir whose outbox holds four mails, none sent; the config's SMTP server on `port`. */
function outboxWorld(port: number): { runDir: string; configFile: string } {
  const world = reportWorld({ recipients: ['all@example.org'], smtp: smtpConfig(port) }, {});
  storeMails(
    world.runDir,
    [1, 2, 3, 4].map((n) => ({
      file: `${n}.eml`,
      from: 'patchline@example.org',
      to: ['all@example.org'],
      subject: `report ${n}`,
      messageId: `<report-${n}@example.org>`,
      raw: Buffer.from(`From: patchline@example.org\r\nTo: all@example.org\r\nSubject: report ${n}\r\nMessage-ID: <report-${n}@example.org>\r\n\r\nbody ${n}\r\n`),
    })),
  );
  return world;
}

function emls(runDir: string): string[] {
  return readdirSync(join(runDir, 'report', 'mail')).filter((f) => f.endsWith('.eml'));
}

let server: TestSmtpServer;
beforeAll(async () => {
  server = await startSmtpServer({ user: 'patchline', password: 'the-right-password' });
});
afterAll(() => server.close());

test('SMTP refusing the login: the step exits promptly, the mails stay unsent, the password is never printed', async () => {
  const { runDir, configFile } = outboxWorld(server.port);
  const logins = server.logins.length;
  const { code, stderr, ms } = await runStep(configFile, runDir);
  expect(ms).toBeLessThan(PROMPT_MS);
  expect(code).toBe(1);
  expect(stderr.trimEnd().split('\n').at(-1)).toMatch(/^patchline: EREPORT 4 mails still not sent: .*Invalid username or password/);
  expect(stderr).not.toContain(WRONG);
  // a refused login is never retried: one attempt for the whole outbox
  expect(server.logins.length - logins).toBe(1);
  expect(server.received).toHaveLength(0);
  expect(emls(runDir)).toHaveLength(4);
  expect(readOutbox(runDir).mails.filter((m) => !m.sent)).toHaveLength(4);
});

test('nothing listening on the SMTP port: the step exits promptly, the mails stay unsent', async () => {
  const { runDir, configFile } = outboxWorld(await closedPort());
  const { code, stderr, ms } = await runStep(configFile, runDir);
  expect(ms).toBeLessThan(PROMPT_MS);
  expect(code).toBe(1);
  expect(stderr.trimEnd().split('\n').at(-1)).toMatch(/^patchline: EREPORT 4 mails still not sent: .*ECONNREFUSED/);
  expect(emls(runDir)).toHaveLength(4);
  expect(readOutbox(runDir).mails.filter((m) => !m.sent)).toHaveLength(4);
});
