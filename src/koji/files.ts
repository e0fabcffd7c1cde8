import { closeSync, createWriteStream, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PatchlineError } from '../core/errors.js';
import type { BuildRpm, KojiBuild } from './api.js';
import type { KojiSession } from './session.js';
import { kwargs } from './values.js';

/** Bytes asked per downloadTaskOutput call (koji's own download-logs asks 102400; fewer round trips here). */
export const TASK_OUTPUT_BLOCK = 1 << 20;

/** Koji's file layout under topurl (koji.PathInfo): a volume other than DEFAULT lives under vol/<name>/. */
function volumeDir(topurl: string, volume: string): string {
  const top = topurl.replace(/\/+$/, '');
  return volume === 'DEFAULT' ? top : `${top}/vol/${encodeURIComponent(volume)}`;
}

/** A build's RPM: packages/<build name>/<version>/<release>/<arch>/<rpm name>-<v>-<r>.<arch>.rpm. */
export function buildRpmUrl(topurl: string, build: KojiBuild, rpm: BuildRpm): string {
  const dir = [build.name, build.version, build.release, rpm.arch].map(encodeURIComponent).join('/');
  return `${volumeDir(topurl, build.volume)}/packages/${dir}/${encodeURIComponent(rpmFileName(rpm))}`;
}

export function rpmFileName(rpm: BuildRpm): string {
  return `${rpm.name}-${rpm.version}-${rpm.release}.${rpm.arch}.rpm`;
}

/** A file of Koji's work dir (a task result names them relative to it, e.g. tasks/10/10/x.rpm). */
export function workFileUrl(topurl: string, relpath: string): string {
  return `${topurl.replace(/\/+$/, '')}/work/${relpath.split('/').map(encodeURIComponent).join('/')}`;
}

function checkSize(dest: string, expected: number | undefined, from: string): void {
  const got = statSync(dest).size;
  if (expected !== undefined && got !== expected) {
    throw new PatchlineError('EKOJI', `${from}: got ${got} bytes, Koji says the file has ${expected}`, { input: from });
  }
}

/** Write to `<dest>.part` and rename once complete and of the expected size: a partial file never looks like an RPM. */
async function intoFile(dest: string, expected: number | undefined, from: string, write: (part: string) => Promise<void>): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  try {
    await write(part);
    checkSize(part, expected, from);
    renameSync(part, dest);
  } finally {
    rmSync(part, { force: true });
  }
}

/**
 * A task's output file through the hub (downloadTaskOutput in blocks, base64 in a <string>, until
 * an empty block, as koji's client reads), checked against the size listTaskOutput gave.
 */
export async function downloadTaskFile(session: KojiSession, taskId: number, name: string, dest: string, expected?: number): Promise<void> {
  const from = `Koji task ${taskId} output ${name}`;
  await intoFile(dest, expected, from, async (part) => {
    const fd = openSync(part, 'w');
    try {
      for (let offset = 0; ; ) {
        const data = await session.call('downloadTaskOutput', taskId, name, kwargs({ offset, size: TASK_OUTPUT_BLOCK }));
        const block = Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'base64');
        if (block.length === 0) break;
        writeSync(fd, block);
        offset += block.length;
      }
    } finally {
      closeSync(fd);
    }
  });
}

const MAX_REDIRECTS = 5;

function get(url: string, ca: Buffer | undefined, timeoutMs: number, redirects = 0): Promise<http.IncomingMessage> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new PatchlineError('EKOJI', `cannot download ${url}: ${why}`, { input: url, details: { transient: true } }));
    const req = lib.get(u, { timeout: timeoutMs, ...(u.protocol === 'https:' && ca ? { ca: [...rootCertificates, ca.toString('utf8')] } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects < MAX_REDIRECTS) {
        res.resume();
        resolve(get(new URL(res.headers.location, u).href, ca, timeoutMs, redirects + 1));
      } else if (status !== 200) {
        res.resume();
        reject(new PatchlineError('EKOJI', `cannot download ${url}: HTTP ${status}`, { input: url }));
      } else resolve(res);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => fail(err.message));
  });
}

/**
 * A file under the profile's topurl over HTTP(S), checked against the size Koji gave. An https
 * topurl is trusted with the system CAs plus the profile's serverca (a private Koji often signs both).
 */
export async function downloadUrl(url: string, dest: string, opts: { expected?: number; ca?: Buffer; timeoutMs?: number } = {}): Promise<void> {
  await intoFile(dest, opts.expected, url, async (part) => {
    const res = await get(url, opts.ca, opts.timeoutMs ?? 120_000);
    try {
      await pipeline(res, createWriteStream(part));
    } catch (err) {
      throw new PatchlineError('EKOJI', `cannot download ${url}: ${(err as Error).message}`, { input: url });
    }
  });
}
