/**
 * Failure mails the author can act on (does not apply, build failed, tests failed) also go to the
 * series' author, per repo configurable; the address comes from mail, so only a valid single
 * address is ever used, and nothing of a hostile value reaches a header or the SMTP envelope.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { loadConfig } from '../../src/core/config.js';
import type { ReportConfig, RepoConfig } from '../../src/core/config-types.js';
import { ExitCode } from '../../src/core/errors.js';
import type { LedgerEntry } from '../../src/ledger/types.js';
import { composeMails, planMails } from '../../src/report/compose.js';
import { readRunFiles, type RunFiles } from '../../src/report/run-files.js';
import { runReportStep } from '../../src/report/step.js';
import { loadTemplates } from '../../src/report/templates.js';
import { fullRun, harvestFixture } from '../support/result-fixtures.js';
import { startSmtpServer } from '../support/smtp.js';
import { reportWorld, stepContext } from './support.js';

const repos: Record<string, RepoConfig> = { qemu: { url: 'q', branches: ['master', 'stable-2.1'], report: { recipients: ['qemu-team@example.org'] } }, libvirt: { url: 'l', branches: ['master'] } };
const ALL = 'all@example.org';

/** kind → recipients of each mail planned for the fixture run (success qemu/master, conflict qemu/stable-2.1, build failure libvirt/master, harvest problems). */
function recipients(files: RunFiles, report: ReportConfig, r = repos): Record<string, string[]> {
  return Object.fromEntries(planMails(files, report, r).map((p) => [p.kind, p.to]));
}

function fixtureFiles(change: (run: ReturnType<typeof fullRun>) => void = () => {}): RunFiles {
  const run = fullRun();
  change(run);
  return readRunFiles(reportWorld({ recipients: [ALL] }, run).runDir);
}

/** A run whose ledger snapshot mails one series: its tests failed on el9, or it is held for approval. */
function ledgerFiles(standing: 'test-failed' | 'held'): RunFiles {
  const series = harvestFixture().series[0]!;
  const at = '2026-11-21T02:03:04.000Z';
  const mark = { run: '20261121T020304Z', at };
  const entry: LedgerEntry = {
    id: series.id,
    repo: series.repo,
    branch: series.branch,
    version: 1,
    status: 'ready',
    harvested: mark,
    series,
    apply: { ...mark, result: { id: series.id, repo: series.repo, branch: series.branch, status: 'applied', baseCommit: '1'.repeat(40), commits: [], alreadyApplied: [] }, staged: 'refs/patchline/staging/x' },
    builds: { el9: { ...mark, inputs: 'x', record: { seriesId: series.id, repo: series.repo, branch: series.branch, commit: 'a'.repeat(40), platform: 'el9', builder: 'local', state: 'built', nvr: 'qemu-9.0-0.1.el9', rpms: ['/srv/q.rpm'], logs: [], durationSeconds: 1 } } },
    ...(standing === 'test-failed'
      ? { tests: { el9: { ...mark, inputs: 'x', retry: 'input' as const, result: { seriesId: series.id, repo: series.repo, platform: 'el9', state: 'failed' as const, checks: [{ name: 'rpmlint', kind: 'rpmlint' as const, state: 'failed' as const, message: '1 error', durationSeconds: 1 }], durationSeconds: 1 } } } }
      : {}),
    published: {},
  };
  return {
    runDir: '/nonexistent',
    runId: '20261121T020304Z',
    ledger: {
      runId: '20261121T020304Z',
      series: [{ entry, standing: standing === 'held' ? { state: 'held', reason: 'the sender is not trusted' } : { state: 'failed', stage: 'test', platforms: ['el9'] }, mail: { key: 'k', messageId: 'm' } }],
      harvests: [],
      unledgered: [],
    },
  };
}

describe('report: failure mails copied to the series author', () => {
  test('by default the conflict, build-failure and test-failure mails also go to the submitter; success, approval and harvest mails do not', () => {
    const to = recipients(fixtureFiles(), { recipients: [ALL] });
    expect(to['apply-conflict']).toEqual(['qemu-team@example.org', ALL, 'ada@example.org']);
    expect(to['build-failure']).toEqual([ALL, 'ada@example.org']);
    expect(to['success']).toEqual(['qemu-team@example.org', ALL]);
    expect(to['harvest-problems']).toEqual([ALL]);
    expect(recipients(ledgerFiles('test-failed'), { recipients: [ALL] })).toEqual({ 'test-failure': ['qemu-team@example.org', ALL, 'ada@example.org'] });
    expect(recipients(ledgerFiles('held'), { recipients: [ALL] })).toEqual({ 'approval-needed': ['qemu-team@example.org', ALL] });
    // already a recipient (in another case): not twice
    expect(recipients(fixtureFiles(), { recipients: ['ADA@example.org'] })['build-failure']).toEqual(['ADA@example.org']);
    // no list configured: the mail is only written, to no one, not to the author alone
    expect(recipients(fixtureFiles(), {})['build-failure']).toEqual([]);
  });

  test('report.copyAuthor and repos.<repo>.report.copyAuthor: the repo setting wins, and the config schema takes only booleans', () => {
    const files = fixtureFiles();
    const noQemu = { ...repos, qemu: { ...repos.qemu!, report: { recipients: ['qemu-team@example.org'], copyAuthor: false } } };
    expect(recipients(files, { recipients: [ALL] }, noQemu)['apply-conflict']).toEqual(['qemu-team@example.org', ALL]);
    expect(recipients(files, { recipients: [ALL] }, noQemu)['build-failure']).toEqual([ALL, 'ada@example.org']);
    const onlyLibvirt = { ...repos, libvirt: { ...repos.libvirt!, report: { copyAuthor: true } } };
    expect(recipients(files, { recipients: [ALL], copyAuthor: false }, onlyLibvirt)['apply-conflict']).toEqual(['qemu-team@example.org', ALL]);
    expect(recipients(files, { recipients: [ALL], copyAuthor: false }, onlyLibvirt)['build-failure']).toEqual([ALL, 'ada@example.org']);

    const { base } = reportWorld({}, {});
    const config = join(base, 'copy.yaml');
    const write = (report: unknown, repoReport: unknown) =>
      writeFileSync(config, JSON.stringify({ sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }], repos: { qemu: { url: 'q.git', branches: ['master'], report: repoReport } }, report }));
    write({ copyAuthor: false }, { copyAuthor: true });
    expect(loadConfig(config).config.report?.copyAuthor).toBe(false);
    expect(loadConfig(config).config.repos.qemu!.report?.copyAuthor).toBe(true);
    write({ copyAuthor: 'yes' }, {});
    expect(() => loadConfig(config)).toThrow(/report\.copyAuthor/);
    write({}, { copyAuthor: 1 });
    expect(() => loadConfig(config)).toThrow(/repos\.qemu\.report\.copyAuthor/);
  });

  test.each([
    ['two addresses', 'ada@example.org, victim@example.net'],
    ['a header injected after a line break', 'ada@example.org\r\nBcc: victim@example.net'],
    ['a bare line feed', 'ada@example.org\nBcc: victim@example.net'],
    ['a display name', 'Ada <ada@example.org>'],
    ['angle brackets', '<ada@example.org>'],
    ['a stray bracket', 'ada@example.org>'],
    ['a quoted local part', '"ada victim"@example.org'],
    ['a group', 'undisclosed:victim@example.net;'],
    ['a comment', 'ada@example.org(victim@example.net)'],
    ['no domain', 'ada@'],
    ['no dot in the domain', 'ada@localhost'],
    ['two @', 'ada@victim@example.net'],
    ['too long', `${'a'.repeat(250)}@example.org`],
    ['empty', ''],
  ])('a submitter address with %s is not used: the author of the failing patch is, when valid', async (_why, hostile) => {
    const files = fixtureFiles((run) => {
      const conflict = run.harvest.series.find((s) => s.id === 'qemu-stable-2.1-backport')!;
      conflict.submitter = { name: 'Ada', email: hostile };
      conflict.patches[0]!.author = { name: 'Bob', email: 'bob@example.com' };
      const build = run.harvest.series.find((s) => s.id === 'libvirt-master-new-api')!;
      build.submitter = { name: 'Ada', email: hostile };
      build.patches[0]!.author = { name: 'Eve', email: hostile };
    });
    const plans = planMails(files, { recipients: [ALL] }, repos);
    const to = Object.fromEntries(plans.map((p) => [p.kind, p.to]));
    expect(to['apply-conflict']).toEqual(['qemu-team@example.org', ALL, 'bob@example.com']);
    expect(to['build-failure']).toEqual([ALL]);

    const mails = await composeMails(plans, loadTemplates(), { from: 'patchline <pl@example.org>', runId: files.runId, date: new Date(0) });
    for (const m of mails) {
      const head = m.raw.toString('utf8').split('\r\n\r\n')[0]!;
      expect(head).not.toMatch(/victim|^bcc:/im);
      const parsed = await simpleParser(m.raw);
      expect(parsed.bcc).toBeUndefined();
      expect(parsed.cc).toBeUndefined();
    }
  });

  test('over SMTP: the envelope and the To: header name the author of a failing series, and nothing else from the mail', async () => {
    process.env.PL_TEST_SMTP_PASSWORD = 's3cret-pass';
    const server = await startSmtpServer({ user: 'patchline', password: 's3cret-pass' });
    try {
      const run = fullRun();
      const conflict = run.harvest.series.find((s) => s.id === 'qemu-stable-2.1-backport')!;
      conflict.submitter = { name: 'Ada', email: 'ada@example.org,\r\nBcc: victim@example.net' };
      conflict.patches[0]!.author = { name: 'Bob "B" <x>', email: 'bob@example.com' };
      const smtp = { host: '127.0.0.1', port: server.port, security: 'plain' as const, user: 'patchline', password: { env: 'PL_TEST_SMTP_PASSWORD' }, from: 'patchline <patchline@example.org>' };
      const { runDir, configFile } = reportWorld({ recipients: [ALL], smtp }, run);
      expect(await runReportStep(stepContext(configFile, runDir))).toBe(ExitCode.ok);
      const got = await Promise.all(server.received.map(async (m) => ({ env: m, mail: await simpleParser(m.raw) })));
      const bySubject = (re: RegExp) => got.find((g) => re.test(g.mail.subject ?? ''))!;

      const conflictMail = bySubject(/qemu\/stable-2.1: does not apply/);
      expect(conflictMail.env.to.sort()).toEqual([ALL, 'bob@example.com', 'qemu-team@example.org']);
      expect((conflictMail.mail.to as { value: Array<{ address: string }> }).value.map((a) => a.address).sort()).toEqual([ALL, 'bob@example.com', 'qemu-team@example.org']);
      expect(bySubject(/libvirt\/master: build failed/).env.to.sort()).toEqual(['ada@example.org', ALL]);
      expect(bySubject(/qemu\/master: applied, built and published/).env.to.sort()).toEqual([ALL, 'qemu-team@example.org']);
      expect(got.flatMap((g) => g.env.to)).not.toContain('victim@example.net');
      // the HTML part shows the submitter as it came; the header block holds nothing of it
      for (const g of got) expect(g.env.raw.toString().split('\r\n\r\n')[0]).not.toMatch(/victim|^bcc:/im);
    } finally {
      await server.close();
    }
  });
});
