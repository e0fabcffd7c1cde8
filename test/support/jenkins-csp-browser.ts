/**
 * Pages as Jenkins serves them: a loopback static server sending Jenkins' default
 * Content-Security-Policy with every answer, and Debian's Chromium (never a downloaded browser)
 * opening them while collecting whatever the browser reports as a problem.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** What Jenkins sends with every archived artifact and published HTML report unless an admin changes it. */
export const JENKINS_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'self';";
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.json': 'application/json', '.log': 'text/plain' };

export interface TestServer {
  url: string;
  close: () => void;
}

/**
 * Static files under `root`; a folder answers with its index.html, or else a listing (as a repo
 * server's autoindex). `elsewhere` stands for other sites: a path under one of its prefixes answers 200.
 */
export function serveUnderJenkinsCsp(root: string, elsewhere: string[] = []): Promise<TestServer> {
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    const file = normalize(join(root, path));
    res.setHeader('Content-Security-Policy', JENKINS_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (elsewhere.some((prefix) => path.startsWith(prefix))) return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`stands for ${path}`);
    if (!file.startsWith(root) || !existsSync(file)) return void res.writeHead(404).end();
    if (!statSync(file).isDirectory()) return void res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    if (!path.endsWith('/')) return void res.writeHead(404).end();
    const index = join(file, 'index.html');
    if (existsSync(index)) res.writeHead(200, { 'Content-Type': TYPES['.html']! }).end(readFileSync(index));
    else res.writeHead(200, { 'Content-Type': 'text/plain' }).end(readdirSync(file).join('\n'));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() })));
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}

export interface OpenedPage {
  page: Page;
  /** Console errors, page errors, CSP refusals, failed or >= 400 requests. */
  problems: string[];
}

/** The page at `url`, answered 200 with Jenkins' CSP; problems collected from then on. */
export async function openUnderCsp(browser: Browser, url: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    // the browser asks the server root for a favicon (Jenkins has one; the test server does not)
    if (m.location().url.endsWith('/favicon.ico')) return;
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('requestfailed', (r) => problems.push(`failed ${r.url()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  const answer = await page.goto(url);
  if (answer?.status() !== 200) throw new Error(`${url}: answered ${answer?.status()}`);
  if (answer.headers()['content-security-policy'] !== JENKINS_CSP) throw new Error(`${url}: served without Jenkins' CSP`);
  return { page, problems };
}

/** Every link of the page, each answering 200 (fetched by the browser's context). */
export async function linksThatResolve(page: Page): Promise<string[]> {
  const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => (a as unknown as { href: string }).href));
  const failing: string[] = [];
  for (const h of new Set(hrefs)) {
    const status = (await page.request.get(h)).status();
    if (status !== 200) failing.push(`${status} ${h}`);
  }
  if (failing.length > 0) throw new Error(`links that do not resolve: ${failing.join(', ')}`);
  return hrefs;
}
