import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { ExitCode } from '../../src/core/errors.js';
import { runReportStep } from '../../src/report/step.js';
import { readOutbox } from '../../src/report/outbox.js';
import { fullRun } from '../support/result-fixtures.js';
import { closedPort, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { reportWorld, stepContext } from './support.js';

const smtpConfig = (port: number) => ({ host: '127.0.0.1', port, security: 'plain' as const, user: 'patchline', password: { env: 'PL_TEST_SMTP_PASSWORD' }, from: 'patchline <patchline@example.org>' });

describe('report step', () => {
  let server: TestSmtpServer;
  beforeAll(async () => {
    process.env.PL_TEST_SMTP_PASSWORD = 's3cret-pass';
    server = await startSmtpServer({ user: 'patchline', password: 's3cret-pass' });
  });
  afterAll(() => server.close());

  test('mails go over SMTP to the repo recipients and the catch-all, threaded under the series, log attached; the same bytes as the .eml', async () => {
    const { runDir, configFile } = reportWorld({ recipients: ['all@example.org'], smtp: smtpConfig(server.port) }, fullRun());
    const before = server.received.length;
    expect(await runReportStep(stepContext(configFile, runDir))).toBe(ExitCode.ok);
    const got = server.received.slice(before);
    expect(got).toHaveLength(4);
    expect(server.logins.at(-1)).toEqual({ user: 'patchline', password: 's3cret-pass' });
    const parsed = await Promise.all(got.map(async (m) => ({ env: m, mail: await simpleParser(m.raw) })));
    const bySubject = (re: RegExp) => parsed.find((p) => re.test(p.mail.subject ?? ''))!;

    const harvest = bySubject(/harvest: 2 mails set aside/);
    expect(harvest.env.to).toEqual(['all@example.org']);
    expect(harvest.mail.inReplyTo).toBeUndefined();

    const ok = bySubject(/qemu\/master: applied, built and published/);
    expect(ok.env.from).toBe('patchline@example.org');
    expect(ok.env.to.sort()).toEqual(['all@example.org', 'qemu-team@example.org']);
    expect(ok.mail.inReplyTo).toBe('<cover-qemu-master-fix-io@example.org>');
    expect(ok.mail.references).toBe('<cover-qemu-master-fix-io@example.org>');

    const conflict = bySubject(/qemu\/stable-2.1: does not apply/);
    expect(conflict.mail.inReplyTo).toBe('<qemu-stable-2.1-backport-1@example.org>');

    const build = bySubject(/libvirt\/master: build failed on f40/);
    // a failure mail also goes to the series' author, who can fix it with a new version (report.copyAuthor)
    expect([...build.env.to].sort()).toEqual(['ada@example.org', 'all@example.org']);
    expect(build.mail.attachments).toHaveLength(1);
    expect(build.mail.attachments[0]!.filename).toBe('f40-libvirt-f40-build.log');
    expect(build.mail.attachments[0]!.content.toString()).toBe(readFileSync(join(runDir, 'logs', 'libvirt-f40-build.log'), 'utf8'));

    const emlDir = join(runDir, 'report', 'mail');
    const emls = readdirSync(emlDir).filter((f) => f.endsWith('.eml')).sort();
    expect(emls).toHaveLength(4);
    expect(got.map((m) => m.raw.toString()).sort()).toEqual(emls.map((f) => readFileSync(join(emlDir, f), 'utf8').replace(/\r?\n/g, '\r\n')).sort());
    expect(readOutbox(runDir).mails.every((m) => m.sent)).toBe(true);

    // a second report of the same run sends nothing again
    expect(await runReportStep(stepContext(configFile, runDir))).toBe(ExitCode.ok);
    expect(server.received.length).toBe(before + 4);
  });

  test('junit.xml has one test case per repo/branch x stage (x platform), and the harvest sources and problems', async () => {
    const { runDir, configFile } = reportWorld({}, fullRun());
    const warnings: string[] = [];
    expect(await runReportStep(stepContext(configFile, runDir, {}, warnings))).toBe(ExitCode.ok);
    expect(warnings.join('\n')).toMatch(/no report.smtp configured: 4 mails written to .*report\/mail, not sent/);
    const xml = readFileSync(join(runDir, 'report', 'junit.xml'), 'utf8');
    const cases = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"(\/>|>\s*<(failure|skipped|system-out))/g)].map((m) => `${m[1]} ${m[2]} ${m[4] === 'system-out' ? 'passed' : (m[4] ?? 'passed')}`);
    expect(cases).toEqual([
      'patchline.harvest source list passed',
      'patchline.harvest quarantined failure',
      'patchline.harvest unroutable failure',
      'qemu.master harvest passed',
      'qemu.master apply passed',
      'qemu.master build el9 passed',
      'qemu.master build f40 passed',
      'qemu.master publish el9 passed',
      'qemu.master publish f40 passed',
      'qemu.stable-2_1 harvest passed',
      'qemu.stable-2_1 apply failure',
      'qemu.stable-2_1 build skipped',
      'libvirt.master harvest passed',
      'libvirt.master apply passed',
      'libvirt.master build el9 passed',
      'libvirt.master build f40 failure',
      'libvirt.master publish el9 skipped',
    ]);
    expect(xml).toMatch(/<testsuites name="patchline run 20261121T020304Z" tests="17" failures="4" skipped="2" errors="0">/);
    expect(xml).toContain('<failure message="qemu-stable-2.1-backport: patch 1 &quot;Backport the fix part 1&quot; conflict: error: patch failed: block/io.c:42">');
    expect(xml).toContain('<failure message="1 mail quarantined">1 mail quarantined\n[next PATCH qemu] &lt;script&gt;alert(1)&lt;/script&gt; &lt;q1@example.org&gt;: branch');
  });

  test('SMTP down: a warning, the .eml files stay, and --resend delivers them once', async () => {
    const port = await closedPort();
    const { runDir, configFile } = reportWorld({ recipients: ['all@example.org'], smtp: smtpConfig(port) }, fullRun());
    const warnings: string[] = [];
    expect(await runReportStep(stepContext(configFile, runDir, {}, warnings))).toBe(ExitCode.ok);
    expect(warnings.join('\n')).toMatch(/not sent: .*ECONNREFUSED/);
    expect(warnings.join('\n')).toContain(`send them later with: patchline report --resend ${runDir}`);
    expect(readOutbox(runDir).mails.filter((m) => !m.sent)).toHaveLength(4);
    expect(readdirSync(join(runDir, 'report', 'mail')).filter((f) => f.endsWith('.eml'))).toHaveLength(4);

    // resend while still down: exit 1 naming the problem
    await expect(runReportStep(stepContext(configFile, runDir, { resend: runDir }))).rejects.toThrow(/4 mails still not sent: .*ECONNREFUSED/);

    // the server is back (the config now points at it): --resend sends exactly the four, once
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace(`"port":${port}`, `"port":${server.port}`));
    const before = server.received.length;
    expect(await runReportStep(stepContext(configFile, runDir, { resend: runDir }))).toBe(ExitCode.ok);
    expect(server.received.length).toBe(before + 4);
    expect(server.received.slice(before).map((m) => m.raw.toString()).sort()).toEqual(
      readdirSync(join(runDir, 'report', 'mail')).filter((f) => f.endsWith('.eml')).sort().map((f) => readFileSync(join(runDir, 'report', 'mail', f), 'utf8').replace(/\r?\n/g, '\r\n')).sort(),
    );
    expect(await runReportStep(stepContext(configFile, runDir, { resend: runDir }))).toBe(ExitCode.ok);
    expect(server.received.length).toBe(before + 4);
  });

  test('a template that fails to render makes the step exit 1 with the template named', async () => {
    const tpl = mkdtempSync(join(tmpdir(), 'pl-tpl-'));
    writeFileSync(join(tpl, 'apply-conflict.text.hbs'), '{{apply.failure.mesage}}');
    const { runDir, configFile } = reportWorld({ templatesDir: tpl }, fullRun());
    const warnings: string[] = [];
    expect(await runReportStep(stepContext(configFile, runDir, {}, warnings))).toBe(ExitCode.failed);
    expect(warnings.join('\n')).toMatch(/rendering failed: template apply-conflict.text.hbs: "mesage" not defined/);
    expect(existsSync(join(runDir, 'report', 'junit.xml'))).toBe(false);
  });
});
