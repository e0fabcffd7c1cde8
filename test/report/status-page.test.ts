import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { ExitCode } from '../../src/core/errors.js';
import { runReportStep } from '../../src/report/step.js';
import { fixtureRunId, fullRun, writeRunFixture } from '../support/result-fixtures.js';
import { reportWorld, stepContext } from './support.js';

const ARTIFACTS = resolve('test-artifacts');
const DAY = 24 * 3600 * 1000;

/** Three nightly runs: qemu/master passes, then fails to apply, then fails to build; the others fail throughout. */
function history() {
  const day0 = fullRun(fixtureRunId(0));
  const world = reportWorld({}, day0, fixtureRunId(0));
  const www = join(world.base, 'www');
  for (const p of ['el9', 'f40']) {
    mkdirSync(join(www, p), { recursive: true });
    writeFileSync(join(www, p, 'index.html'), `<p>${p}</p>`);
  }
  const runsDir = dirname(world.runDir);
  const withRepos = (run: ReturnType<typeof fullRun>) => ({ ...run, publish: { ...run.publish, repos: run.publish.repos.map((r) => ({ ...r, path: join(www, r.platform) })) } });
  writeRunFixture(world.runDir, withRepos(day0));

  const day1 = withRepos(fullRun(fixtureRunId(1)));
  day1.apply.series[0] = { ...day1.apply.series[0]!, status: 'failed', commits: [], failure: { kind: 'conflict', files: ['block/io.c'], message: 'patch does not apply' } };
  writeRunFixture(join(runsDir, fixtureRunId(1)), day1);

  const day2 = withRepos(fullRun(fixtureRunId(2)));
  day2.build.builds[0] = { ...day2.build.builds[0]!, state: 'failed', rpms: [], logs: ['logs/libvirt-f40-build.log'], error: { code: 'EBUILD', message: 'rpmbuild failed' } };
  const last = join(runsDir, fixtureRunId(2));
  writeRunFixture(last, day2);
  return { ...world, runDir: last };
}

describe('status page', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  afterAll(() => browser?.close());

  test('per repo/branch: last result, first failure after success, days since success, the timeline; every link resolves', async () => {
    const { runDir, configFile } = history();
    expect(await runReportStep(stepContext(configFile, runDir))).toBe(ExitCode.ok);
    const file = join(runDir, 'report', 'status.html');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);

    const summary = await page.$$eval('#summary tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    const days = Math.floor((Date.now() - Date.UTC(2026, 10, 21, 2, 3, 4)) / DAY);
    expect(summary).toEqual([
      ['qemu', 'master', `failed (${fixtureRunId(2)})`, `${fixtureRunId(1)} (qemu-master-fix-io)`, String(days), '3'],
      ['qemu', 'stable-2.1', `failed (${fixtureRunId(2)})`, '', 'never', '3'],
      ['libvirt', 'master', `failed (${fixtureRunId(2)})`, '', 'never', '3'],
    ]);
    const timeline = await page.$$eval('table.timeline[data-branch="qemu/master"] tbody tr', (rows) => rows.map((r) => [r.getAttribute('data-run'), r.querySelectorAll('td')[3]!.textContent!.trim()]));
    expect(timeline).toEqual([
      [fixtureRunId(2), 'failed at build el9'],
      [fixtureRunId(1), 'failed at apply'],
      [fixtureRunId(0), 'passed'],
    ]);

    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => (a as unknown as { href: string }).href));
    expect(hrefs.length).toBeGreaterThan(5);
    expect(hrefs.filter((h) => h.endsWith('/www/el9/index.html')).length).toBeGreaterThan(0);
    expect(hrefs.filter((h) => h.endsWith('/logs/libvirt-f40-build.log')).length).toBe(4); // libvirt f40 in 3 runs, qemu el9 on day 2
    for (const h of hrefs) {
      expect(h.startsWith('file://')).toBe(true);
      expect(existsSync(fileURLToPath(h))).toBe(true);
    }
    expect(requests.every((u) => u.startsWith('file://'))).toBe(true);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'status.png'), fullPage: true });
    await page.close();
  });
});
