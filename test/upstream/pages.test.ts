/**
 * The upstream pages as Jenkins and a web server show them: a real store in a temp state dir, the
 * pages written beside the repos, served over HTTP with Jenkins' default Content-Security-Policy
 * and loaded in headless Chromium (Debian's): styled, nothing blocked, every link answering, HTML
 * in a commit subject shown as text.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { writeUpstreamPages } from '../../src/upstream/pages.js';
import { openUpstreamStore } from '../../src/upstream/store.js';
import { launchChromium, linksThatResolve, openUnderCsp, serveUnderJenkinsCsp, type OpenedPage, type TestServer } from '../support/jenkins-csp-browser.js';
import { HTML_SUBJECT, writeHistory, writePublishedFiles, type History } from './history-fixture.js';

const ARTIFACTS = resolve('test-artifacts');
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

interface StyleOf {
  getComputedStyle(el: unknown): { backgroundColor: string; fontFamily: string; fontStyle: string };
}

const style = (page: Page, selector: string) => page.$eval(selector, (el) => (globalThis as unknown as StyleOf).getComputedStyle(el));

/** Styled by upstream.css, nothing inline, nothing blocked or failing, every link answering 200; returns the links. */
async function expectStyledWithLinksThatResolve({ page, problems }: OpenedPage): Promise<string[]> {
  expect((await style(page, 'body')).fontFamily).toBe('sans-serif');
  expect(await page.$$eval('style, script, [style], link[href^="http"]', (els) => els.length)).toBe(0);
  expect(problems).toEqual([]);
  return linksThatResolve(page);
}

const cells = (page: Page, rows: string) => page.$$eval(rows, (trs) => trs.map((r) => [...r.querySelectorAll('td')].map((td) => (td as unknown as { innerText: string }).innerText.replace(/\s+/g, ' ').trim())));

describe('upstream pages', () => {
  let browser: Browser;
  let server: TestServer;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pl-upages-'));
    // /commits/ stands for the forge commitUrl points at
    server = await serveUnderJenkinsCsp(root, ['/commits/']);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  /** A state dir with the history in a real store; the publish root `www` holding its repos and logs. */
  function world(): { base: string; url: string; www: string; history: History; store: ReturnType<typeof openUpstreamStore> } {
    const base = mkdtempSync(join(root, 'w-'));
    const store = openUpstreamStore(join(base, 'state'));
    const history = writeHistory(store, NOW);
    const www = join(base, 'www');
    writePublishedFiles(www, history.records);
    return { base, url: `${server.url}/${basename(base)}`, www, history, store: openUpstreamStore(join(base, 'state')) };
  }

  test('beside the repos (baseUrl ..): the three pages styled under the CSP, every link resolving, the HTML subject shown as text', async () => {
    const w = world();
    const out = join(w.www, 'upstream');
    writeUpstreamPages(w.store, w.history.queue, out, { commitUrl: `${server.url}/commits/{project}/{sha}`, baseUrl: '..', now: new Date(NOW) });
    expect(readdirSync(out).sort()).toEqual(['queue.html', 'queue.json', 'report.html', 'status_report.html', 'upstream.css']);
    expect(JSON.parse(readFileSync(join(out, 'queue.json'), 'utf8'))).toEqual(w.history.queue);

    // report.html: every build, newest first, each with its commit, repo and log links
    const report = await openUnderCsp(browser, `${w.url}/www/upstream/report.html`);
    const ids = await report.page.$$eval('#timeline tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(ids).toEqual(w.history.records.map((r) => r.id).reverse());
    const hrefs = await expectStyledWithLinksThatResolve(report);
    const { c } = w.history;
    const wwwUrl = `${w.url}/www`;
    expect(hrefs).toContain(`${server.url}/commits/swift/${c.s1.sha}`);
    expect(hrefs).toContain(`${wwwUrl}/repos/${c.s1.sha.slice(0, 2)}/${c.s1.sha.slice(2, 4)}/${c.s1.sha}_d15717aa/`);
    expect(hrefs).toContain(`${wwwUrl}/repos/${c.n6.sha.slice(0, 2)}/${c.n6.sha.slice(2, 4)}/${c.n6.sha}_d15717aa/el9/build.log.1`);
    expect(hrefs.filter((h) => h.endsWith('/'))).toHaveLength(w.history.records.filter((r) => r.repoPath).length);
    expect(hrefs.filter((h) => /build\.log/.test(h))).toHaveLength(w.history.records.length);
    // the subject's HTML is text: no element made of it, its characters on screen as written
    const swift = await cells(report.page, `#timeline tr[data-id^="swift/"]`);
    expect(swift[0]![5]).toBe(HTML_SUBJECT);
    expect(await report.page.$$eval('#timeline b', (b) => b.length)).toBe(0);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;');
    // the mail pipeline's half of the stylesheet (status.css) and the upstream half both apply
    expect((await style(report.page, 'td.failed')).backgroundColor).toBe('rgb(253, 236, 234)');
    expect((await style(report.page, 'td.waiting')).backgroundColor).toBe('rgb(255, 248, 225)');
    expect((await style(report.page, '.bisect')).fontStyle).toBe('italic');
    mkdirSync(ARTIFACTS, { recursive: true });
    await report.page.screenshot({ path: join(ARTIFACTS, 'upstream-report.png'), fullPage: true });
    await report.page.close();

    // status_report.html: per project and platform, days counted from the fixed now
    const status = await openUnderCsp(browser, `${w.url}/www/upstream/status_report.html`);
    await expectStyledWithLinksThatResolve(status);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
    const fHead = w.history.records.find((r) => r.commit.sha === c.fHead.sha)!;
    expect(await cells(status.page, '#status tbody tr')).toEqual([
      ['glance', 'el9', `FAILED (${day(NOW - 86400000)})`, w.history.records[12]!.nvr, '', 'never', '0'],
      ['keystone', '', 'NONE', '', '', 'never', '0'],
      ['nova', 'el9', `RETRY (${day(NOW - 1.5 * 86400000)})`, w.history.records[11]!.nvr, '', '6', '2'],
      [
        'nova',
        'f40',
        `FAILED (${day(NOW - 3 * 86400000)})`,
        fHead.nvr,
        `${day(NOW - 3 * 86400000)}: ${c.fHead.sha.slice(0, 12)} ${c.fHead.subject} rpmbuild: error: File not found: /builddir/nova.conf first bad commit: ${c.fBad.sha.slice(0, 12)} ${c.fBad.subject} (Author nova)`,
        '9',
        '0',
      ],
      ['swift', 'el9', `SUCCESS (${day(NOW - 0.25 * 86400000)})`, w.history.records[13]!.nvr, '', '0', '0'],
    ]);
    await status.page.screenshot({ path: join(ARTIFACTS, 'upstream-status.png'), fullPage: true });
    await status.page.close();

    // queue.html: what the next run builds and why the others wait
    const queue = await openUnderCsp(browser, `${w.url}/www/upstream/queue.html`);
    await expectStyledWithLinksThatResolve(queue);
    expect(await cells(queue.page, '#queue tbody tr')).toEqual([['nova', 'el9', c.n6.sha.slice(0, 12), day(Date.parse(c.n6.commitTime)), c.n6.subject, 'd15717aaaaaa', 'retry (3 of 3)']]);
    expect(await cells(queue.page, '#projects tbody tr')).toEqual([
      ['glance', '0', 'up to date'],
      ['keystone', '0', 'clone failed: fatal: repository <not> found'],
      ['nova', '1', ''],
      ['swift', '0', 'up to date'],
    ]);
    expect((await style(queue.page, 'td.idle-problem')).backgroundColor).toBe('rgb(253, 236, 234)');
    await queue.page.close();
  });

  test('an absolute baseUrl and no commitUrl: repo and log links under it, hashes as plain text; written again, the pages are replaced whole', async () => {
    const w = world();
    const out = join(w.base, 'pages');
    writeUpstreamPages(w.store, { ...w.history.queue, queue: [] }, out, { baseUrl: `${w.url}/www/`, now: new Date(NOW) });
    const report = await openUnderCsp(browser, `${w.url}/pages/report.html`);
    const hrefs = await expectStyledWithLinksThatResolve(report);
    expect(hrefs.filter((h) => h.includes('/commits/'))).toEqual([]);
    expect(hrefs.filter((h) => h.startsWith(`${w.url}/www/repos/`))).toHaveLength(w.history.records.length + w.history.records.filter((r) => r.repoPath).length);
    await report.page.close();
    expect(readFileSync(join(out, 'queue.html'), 'utf8')).not.toContain('id="queue"');

    w.store.put({ ...w.history.records[0]!, id: 'nova/el9/later', builtAt: new Date(NOW).toISOString() });
    writeUpstreamPages(w.store, w.history.queue, out, { baseUrl: `${w.url}/www/`, now: new Date(NOW) });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/^<!DOCTYPE html>[^]*data-id="nova\/el9\/later"[^]*<\/html>\n?$/);
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
