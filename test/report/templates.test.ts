import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { composeMails, planMails } from '../../src/report/compose.js';
import { readRunFiles } from '../../src/report/run-files.js';
import { loadTemplates } from '../../src/report/templates.js';
import { fullRun } from '../support/result-fixtures.js';
import { reportWorld } from './support.js';

const repos = { qemu: { url: 'q', branches: ['master', 'stable-2.1'], report: { recipients: ['qemu-team@example.org'] } }, libvirt: { url: 'l', branches: ['master'] } };
const report = { recipients: ['all@example.org'] };

async function mailsOf(runDir: string, templates = loadTemplates()) {
  const files = readRunFiles(runDir);
  return composeMails(planMails(files, report, repos), templates, { from: 'patchline <pl@example.org>', runId: files.runId, date: new Date(0) });
}

describe('report templates', () => {
  test('every stage outcome renders from the fixture result files: subject, text and HTML', async () => {
    const run = fullRun();
    run.harvest.series[0]!.subject = '<script>alert("x")</script> Fix the I/O path';
    const { runDir } = reportWorld(report, run);
    const mails = await mailsOf(runDir);
    expect(mails.map((m) => m.file)).toEqual(['01-harvest-problems-harvest.eml', '02-success-qemu-master-fix-io.eml', '03-apply-conflict-qemu-stable-2.1-backport.eml', '04-build-failure-libvirt-master-new-api.eml']);
    const parsed = await Promise.all(mails.map((m) => simpleParser(m.raw)));
    const [harvest, success, conflict, buildFail] = parsed.map((p) => ({ subject: p.subject!, text: p.text!, html: String(p.html) }));

    expect(harvest!.subject).toBe('[patchline] harvest: 2 mails set aside, 0 incomplete series (run 20261121T020304Z)');
    expect(harvest!.text).toContain('branch "next" is not configured for qemu');
    expect(harvest!.text).toContain('no [branch PATCH repo] tag in the subject');
    expect(harvest!.html).toContain('[next PATCH qemu] &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(harvest!.html).not.toContain('<script>');

    expect(success!.subject).toBe('[patchline] qemu/master: applied, built and published: <script>alert("x")</script> Fix the I/O path');
    expect(success!.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Fix the I/O path');
    expect(success!.html).not.toMatch(/<script/i);
    expect(success!.text).toContain('qemu/master received 1 series with 2 patches');
    expect(success!.text).toContain('cccccccccccc Fix the I/O path part 1');
    expect(success!.text).toContain('dnf config-manager --add-repo https://repos.example.org/el9/patchline-el9.repo');
    expect(success!.text).toContain('qemu-9.0-0.1.x86_64');

    expect(conflict!.subject).toBe('[patchline] qemu/stable-2.1: does not apply: Backport the fix');
    expect(conflict!.text).toContain('Patch 1/1 "Backport the fix part 1" failed (conflict).');
    expect(conflict!.text).toContain('Files: block/io.c, include/block.h');
    expect(conflict!.text).toContain('error: block/io.c: patch does not apply');

    expect(buildFail!.subject).toBe('[patchline] libvirt/master: build failed on f40: New API');
    expect(buildFail!.text).toContain('Task: https://koji.example.org/koji/taskinfo?taskID=1002');
    expect(buildFail!.text).toContain('build line 32\n');
    expect(buildFail!.text).not.toContain('build line 31\n');
    expect(buildFail!.text).toContain('error: Bad exit status');
    expect(parsed[3]!.attachments.map((a) => a.filename)).toEqual(['f40-libvirt-f40-build.log']);
  });

  test('publish failure, and stages that never ran, use their stage template', async () => {
    const run = fullRun();
    run.publish.repos[0] = { ...run.publish.repos[0]!, status: 'failed', error: { code: 'EPUBLISH', message: 'rsync failed (exit code 23): some files could not be transferred' } };
    const published = await mailsOf(reportWorld(report, run).runDir);
    const pub = await simpleParser(published.find((m) => m.file.includes('publish-failure'))!.raw);
    expect(pub.subject).toBe('[patchline] qemu/master: built, but publishing failed: Fix the I/O path');
    expect(pub.text).toContain('rsync failed (exit code 23): some files could not be transferred');

    const noApply = await mailsOf(reportWorld(report, { harvest: run.harvest }).runDir);
    expect(noApply.map((m) => m.file.replace(/^\d+-/, ''))).toEqual(['harvest-problems-harvest.eml', 'apply-conflict-qemu-master-fix-io.eml', 'apply-conflict-qemu-stable-2.1-backport.eml', 'apply-conflict-libvirt-master-new-api.eml']);
    expect((await simpleParser(noApply[1]!.raw)).text).toContain('the apply step did not run (no apply.json in the run dir');

    const nothing = await mailsOf(reportWorld(report, {}).runDir);
    expect(nothing).toHaveLength(1);
    const h = await simpleParser(nothing[0]!.raw);
    expect(h.subject).toBe('[patchline] harvest did not run (run 20261121T020304Z)');
    expect(h.text).toContain('the harvest step did not run');
  });

  test('a missing variable is an error naming the template, not blank text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pl-tpl-'));
    writeFileSync(join(dir, 'success.subject.hbs'), 'done: {{series.subjcet}}');
    expect(() => loadTemplates(dir).render('success.subject.hbs', { series: { subject: 'x' } })).toThrow(/template success.subject.hbs: "subjcet" not defined/);
  });

  test('a user template folder overrides templates of the same name, the others stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pl-tpl-'));
    mkdirSync(join(dir, 'partials'));
    writeFileSync(join(dir, 'success.subject.hbs'), 'OK {{series.repo}}#{{series.branch}} ({{plural series.total "patch"}})');
    writeFileSync(join(dir, 'partials', 'stages.hbs'), '<p id="mine">{{stages.length}} stages</p>');
    const mails = await mailsOf(reportWorld(report, fullRun()).runDir, loadTemplates(dir));
    const ok = await simpleParser(mails[1]!.raw);
    expect(ok.subject).toBe('OK qemu#master (2 patches)');
    expect(String(ok.html)).toContain('<p id="mine">6 stages</p>');
    expect((await simpleParser(mails[2]!.raw)).subject).toMatch(/^\[patchline\] qemu\/stable-2.1: does not apply/);
  });
});
