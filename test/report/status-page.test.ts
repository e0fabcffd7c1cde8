/**
 * The status page as Jenkins and a web server show it: served over HTTP with Jenkins' default
 * Content-Security-Policy, in headless Chromium; its history from the state dir across runs whose
 * run dirs are deleted in between; every link resolving on the same server.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, extname, join, normalize, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ExitCode } from '../../src/core/errors.js';
import { runReportStep } from '../../src/report/step.js';
import { fixtureRunId, fullRun, writeRunFixture } from '../support/result-fixtures.js';
import { stepContext } from './support.js';

const ARTIFACTS = resolve('test-artifacts');
const DAY = 24 * 3600 * 1000;
/** What Jenkins sends with every archived artifact and published HTML report unless an admin changes it. */
const JENKINS_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'self';";
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.log': 'text/plain' };

/** A static file server over `root`, with Jenkins' CSP on every answer; any /koji/ path stands for the Koji web UI. */
function serve(root: string): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    // a folder is served by its index.html, as a web server does
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    res.setHeader('Content-Security-Policy', JENKINS_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (path.includes('/koji/')) res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>task</p>');
    else if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) res.writeHead(404).end();
    else res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() })));
}

interface World {
  base: string;
  configFile: string;
  stateDir: string;
  /** The URL of `base` on the test server. */
  url: string;
  runDir: (day: number) => string;
  at: (path: string) => string;
}

/** A config and its state dir in a new folder under the served root; repos in <base>/www (a local publish destination) served under their URL. */
function world(root: string, server: string, publish: Record<string, unknown> = {}): World {
  const base = mkdtempSync(join(root, 'w-'));
  const url = `${server}/${basename(base)}`;
  const configFile = join(base, 'patchline.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }],
      repos: { qemu: { url: 'qemu.git', branches: ['master', 'stable-2.1'] }, libvirt: { url: 'libvirt.git', branches: ['master'] } },
      publish: { destination: 'www', baseUrl: `${url}/www`, ...publish },
    }),
  );
  // one repo per platform and branch (publish.layout's default)
  for (const p of ['el9/qemu-master', 'f40/qemu-master']) {
    mkdirSync(join(base, 'www', p), { recursive: true });
    writeFileSync(join(base, 'www', p, 'index.html'), `<p>${p}</p>`);
  }
  const stateDir = join(base, '.patchline');
  return { base, configFile, stateDir, url, runDir: (day) => join(stateDir, 'runs', fixtureRunId(day)), at: (path) => `${url}/${path}` };
}

/** Day 0 qemu/master passes, day 1 it fails to apply, day 2 it fails to build on el9; libvirt f40 fails every day. */
function writeDay(w: World, day: number, repoUrl = (p: string) => `${w.url}/www/${p}/`): string {
  const run = fullRun(fixtureRunId(day));
  run.publish.repos = run.publish.repos.map((r) => {
    const key = `${r.platform}/qemu-master`;
    return { ...r, repo: 'qemu', branch: 'master', key, path: join(w.base, 'www', key), url: repoUrl(key) };
  });
  run.build.builds = run.build.builds.map((b) => (b.url ? { ...b, url: `${w.url}/koji/taskinfo?taskID=${b.taskId}` } : b));
  if (day === 1) run.apply.series[0] = { ...run.apply.series[0]!, status: 'failed', commits: [], failure: { kind: 'conflict', files: ['block/io.c'], message: 'patch does not apply' } };
  if (day === 2) run.build.builds[0] = { ...run.build.builds[0]!, state: 'failed', rpms: [], logs: ['logs/libvirt-f40-build.log'], error: { code: 'EBUILD', message: 'rpmbuild failed' } };
  const dir = w.runDir(day);
  mkdirSync(dir, { recursive: true });
  writeRunFixture(dir, run);
  return dir;
}

async function report(w: World, runDir: string, extra: Record<string, unknown> = {}): Promise<string[]> {
  const warnings: string[] = [];
  expect(await runReportStep(stepContext(w.configFile, runDir, extra, warnings))).toBe(ExitCode.ok);
  return warnings;
}

/** Three nightly runs, each run dir deleted after its report (as a Jenkins agent that keeps no run dirs). */
async function threeRuns(w: World, repoUrl?: (p: string) => string): Promise<void> {
  for (const day of [0, 1, 2]) {
    const dir = writeDay(w, day, repoUrl);
    await report(w, dir);
    if (day < 2) rmSync(dir, { recursive: true, force: true });
  }
}

/** The browser's getComputedStyle (the tests compile without the DOM types). */
interface StyleOf {
  getComputedStyle(el: unknown): { backgroundColor: string; fontFamily: string };
}

interface Loaded {
  page: Page;
  blocked: string[];
  failedRequests: string[];
}

async function open(browser: Browser, url: string): Promise<Loaded> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const blocked: string[] = [];
  const failedRequests: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) blocked.push(m.text());
  });
  page.on('requestfailed', (r) => failedRequests.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`);
  });
  const answer = await page.goto(url);
  expect(answer?.status()).toBe(200);
  expect(answer?.headers()['content-security-policy']).toBe(JENKINS_CSP);
  return { page, blocked, failedRequests };
}

/** Styled by its stylesheet (nothing blocked by the CSP), and every link answers 200 from the same server. */
async function expectStyledWithLinksThatResolve({ page, blocked, failedRequests }: Loaded, server: string): Promise<string[]> {
  expect(await page.$eval('td.failed', (td) => (globalThis as unknown as StyleOf).getComputedStyle(td).backgroundColor)).toBe('rgb(253, 236, 234)');
  expect(await page.$eval('body', (b) => (globalThis as unknown as StyleOf).getComputedStyle(b).fontFamily)).toBe('sans-serif');
  expect(await page.$$eval('style, script, [style]', (els) => els.length)).toBe(0);
  expect(blocked).toEqual([]);
  expect(failedRequests).toEqual([]);
  const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => (a as unknown as { href: string }).href));
  for (const h of hrefs) {
    expect(h.startsWith(`${server}/`)).toBe(true);
    expect([h, (await page.request.get(h)).status()]).toEqual([h, 200]);
  }
  return hrefs;
}

const summaryOf = (page: Page) => page.$$eval('#summary tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent!.trim())));
const timelineOf = (page: Page, branch: string) =>
  page.$$eval(`table.timeline[data-branch="${branch}"] tbody tr`, (rows) => rows.map((r) => [r.getAttribute('data-run'), r.querySelectorAll('td')[3]!.textContent!.trim()]));

describe('status page', () => {
  let browser: Browser;
  let server: { url: string; close: () => void };
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pl-status-root-'));
    server = await serve(root);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  test('three runs whose run dirs were deleted in between: the stable page in the state dir has them all, styled under the CSP, every link resolving', async () => {
    const w = world(root, server.url);
    await threeRuns(w);
    expect(existsSync(w.runDir(0))).toBe(false);
    expect(readFileSync(join(w.stateDir, 'status', 'latest'), 'utf8')).toBe(`${fixtureRunId(2)}\n`);

    const loaded = await open(browser, w.at('.patchline/status/index.html'));
    const days = Math.floor((Date.now() - Date.UTC(2026, 10, 21, 2, 3, 4)) / DAY);
    expect(await summaryOf(loaded.page)).toEqual([
      ['qemu', 'master', `failed (${fixtureRunId(2)})`, `${fixtureRunId(1)} (qemu-master-fix-io)`, String(days), '3'],
      ['qemu', 'stable-2.1', `failed (${fixtureRunId(2)})`, '', 'never', '3'],
      ['libvirt', 'master', `failed (${fixtureRunId(2)})`, '', 'never', '3'],
    ]);
    expect(await timelineOf(loaded.page, 'qemu/master')).toEqual([
      [fixtureRunId(2), 'failed at build el9'],
      [fixtureRunId(1), 'failed at apply'],
      [fixtureRunId(0), 'passed'],
    ]);
    const hrefs = await expectStyledWithLinksThatResolve(loaded, server.url);
    // the failed builds' logs of the three runs (libvirt f40 each day, qemu el9 on day 2), copied beside the page
    expect(hrefs.filter((h) => h.includes('/.patchline/status/logs/') && h.endsWith('-libvirt-f40-build.log')).length).toBe(4);
    expect(hrefs.filter((h) => h.endsWith('/www/el9/qemu-master/')).length).toBeGreaterThan(0);
    expect(hrefs.filter((h) => h.includes('/koji/taskinfo')).length).toBeGreaterThan(0);

    mkdirSync(ARTIFACTS, { recursive: true });
    await loaded.page.screenshot({ path: join(ARTIFACTS, 'status.png'), fullPage: true });
    await loaded.page.close();
  });

  test("the run's own copy (report/status.html, what Jenkins archives and publishes) holds the history and links only what is beside it", async () => {
    const w = world(root, server.url);
    await threeRuns(w);
    const loaded = await open(browser, w.at(`.patchline/runs/${fixtureRunId(2)}/report/status.html`));
    expect((await summaryOf(loaded.page)).map((r) => r[5])).toEqual(['3', '3', '3']);
    const hrefs = await expectStyledWithLinksThatResolve(loaded, server.url);
    const logs = hrefs.filter((h) => h.endsWith('.log'));
    // this run's two failed builds; the logs of the runs before are named, not linked (their run dirs are gone)
    expect(logs.length).toBe(2);
    expect(logs.every((h) => h.includes(`/runs/${fixtureRunId(2)}/report/logs/`))).toBe(true);
    expect(await loaded.page.$$eval('span.log-gone', (s) => s.length)).toBe(2);
    await loaded.page.close();
  });

  test('published beside the repos: the same page under <destination>/status, a repo without an http URL linked as ../<platform>/<repo>-<branch>/', async () => {
    const w = world(root, server.url, { baseUrl: undefined });
    await threeRuns(w, (p) => `file://${join(w.base, 'www', p)}/`);
    const loaded = await open(browser, w.at('www/status/index.html'));
    const hrefs = await expectStyledWithLinksThatResolve(loaded, server.url);
    expect(hrefs.filter((h) => h.endsWith('/www/el9/qemu-master/index.html')).length).toBeGreaterThan(0);
    expect(hrefs.filter((h) => h.includes('/www/status/logs/')).length).toBe(4);
    // the state dir's copy has no link to a file:// repo: it would not resolve where it is served
    const stable = readFileSync(join(w.stateDir, 'status', 'index.html'), 'utf8');
    expect(stable).not.toMatch(/href="[^"]*(file:|\/www\/)/);
    await loaded.page.close();
  });

  test('in a Jenkins workspace the run dir has siblings that are not runs: the page counts only the runs it reported', async () => {
    const w = world(root, server.url);
    const workspace = join(w.base, 'workspace');
    for (const d of ['src', 'docs', 'bench']) mkdirSync(join(workspace, d), { recursive: true });
    const dir = join(workspace, 'patchline-run');
    mkdirSync(dir);
    writeRunFixture(dir, fullRun(fixtureRunId(0)));
    const warnings = await report(w, dir);
    const html = readFileSync(join(dir, 'report', 'status.html'), 'utf8');
    expect(html).toMatch(/from 1 run\b/);
    expect(warnings.filter((l) => /status page/.test(l))).toEqual([]);
    // the same run dir name used again by the next build is another run
    writeRunFixture(dir, fullRun(fixtureRunId(1)));
    await report(w, dir);
    expect(readFileSync(join(dir, 'report', 'status.html'), 'utf8')).toMatch(/from 2 runs/);
    expect(readdirSync(join(w.stateDir, 'status-history')).length).toBe(2);
  });

  test('a dry run writes its page into the run dir only', async () => {
    const w = world(root, server.url);
    const dir = writeDay(w, 0);
    await report(w, dir, { dryRun: true });
    expect(existsSync(join(dir, 'report', 'status.html'))).toBe(true);
    expect(existsSync(join(dir, 'report', 'status.css'))).toBe(true);
    expect(existsSync(join(w.stateDir, 'status'))).toBe(false);
    expect(existsSync(join(w.stateDir, 'status-history'))).toBe(false);
    expect(existsSync(join(w.base, 'www', 'status'))).toBe(false);
  });

  test('a remote destination gets the page over rsync (ssh stood in for by a local shell)', async () => {
    const w = world(root, server.url);
    const remote = join(w.base, 'remote');
    mkdirSync(remote);
    const fakeSsh = join(w.base, 'fake-ssh');
    writeFileSync(fakeSsh, '#!/bin/sh\n# rsync calls: <rsh> <host> <command...>; run the command here\nshift\nexec sh -c "$*"\n');
    chmodSync(fakeSsh, 0o755);
    const config = JSON.parse(readFileSync(w.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(w.configFile, JSON.stringify({ ...config, publish: { destination: `somehost:${remote}`, baseUrl: 'https://repos.example.org', rsync: { rsh: fakeSsh } } }));
    await report(w, writeDay(w, 0));
    expect(readFileSync(join(remote, 'status', 'index.html'), 'utf8')).toMatch(/patchline status/);
    expect(existsSync(join(remote, 'status', 'status.css'))).toBe(true);
    expect(readdirSync(join(remote, 'status', 'logs', fixtureRunId(0)))).toEqual(['1-libvirt-f40-build.log']);
  });
});
