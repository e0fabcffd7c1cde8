import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { junitXml } from '../../src/report/junit.js';
import { readRunFiles } from '../../src/report/run-files.js';
import { fixtureRunId, fullRun, writeRunFixture, type RunFixture } from '../support/result-fixtures.js';

/**
 * Jenkins keys a test's age ("failing since build #n") and history on classname + name: they must
 * not change from run to run while the repo, branch, stage and platform stay the same, whatever
 * series and mails the run met.
 */
function junitOf(files: RunFixture, runId: string): string {
  const runDir = join(mkdtempSync(join(tmpdir(), 'pl-junit-')), runId);
  writeRunFixture(runDir, files);
  return junitXml(readRunFiles(runDir));
}

/** The fixture run with other series ids (a v2 of each series) and other set-aside mails, as the next night brings. */
function nextNight(runId: string): RunFixture {
  const text = JSON.stringify(fullRun(runId))
    .replace(/"(qemu-master-fix-io|qemu-stable-2\.1-backport|libvirt-master-new-api)/g, '"$1-v2')
    .replace(/(q1|u1)@example\.org/g, '$1-next@example.org')
    .replace(/alert\(1\)/g, 'alert(2)');
  return JSON.parse(text) as RunFixture;
}

const names = (xml: string) => [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((m) => `${m[1]} | ${m[2]}`);

describe('junit.xml test names', () => {
  test('two nights with other series and other mails give the same test names; the series and mails are in the messages', () => {
    const first = junitOf(fullRun(fixtureRunId(0)), fixtureRunId(0));
    const second = junitOf(nextNight(fixtureRunId(1)), fixtureRunId(1));
    expect(names(second)).toEqual(names(first));
    expect(names(first).join('\n')).not.toMatch(/qemu-master-fix-io|@example\.org/);
    expect(second).toContain('<failure message="qemu-stable-2.1-backport-v2: patch 1');
    expect(second).toContain('&lt;q1-next@example.org&gt;');
    expect(first).toContain('<system-out>qemu-master-fix-io: passed</system-out>');
  });

  test('two series on one branch in a run share its cases: failed if either failed, and both are named', () => {
    const run = fullRun();
    const second = { ...run.harvest.series[0]!, id: 'qemu-master-second', patches: run.harvest.series[0]!.patches.map((p) => ({ ...p, messageId: `second-${p.messageId}` })) };
    run.harvest.series.push(second);
    run.apply.series.push({ ...run.apply.series.find((s) => s.id === 'qemu-stable-2.1-backport')!, id: 'qemu-master-second', branch: 'master' });
    const xml = junitOf(run, fixtureRunId());
    expect(names(xml).filter((n) => n === 'qemu.master | apply')).toHaveLength(1);
    const apply = /<testcase classname="qemu.master" name="apply">([\s\S]*?)<\/testcase>/.exec(xml)![1]!;
    expect(apply).toMatch(/<failure message="qemu-master-second: patch 1 [^"]*conflict[^"]*">/);
    expect(apply).toContain('qemu-master-fix-io: passed');
    expect(apply).toContain('qemu-master-second: failed: patch 1');
  });
});
