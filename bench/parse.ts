/**
 * `npm run bench:parse`: msgs/s of readHeaders (what the harvest runs on every message) and
 * parseMessage (the full git-mailinfo extraction), next to mailparser's simpleParser, on the
 * shared corpus repeated N times (PATCHLINE_BENCH_N, default 300).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { parseMessage } from '../src/harvest/mail/extract.js';
import { readHeaders } from '../src/harvest/mail/headers.js';

const dir = new URL('../../../shared/corpus/messages/', import.meta.url).pathname;
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith('.eml'))
  .map((f) => readFileSync(join(dir, f)));
const rounds = Number(process.env.PATCHLINE_BENCH_N ?? 300);

async function rate(name: string, fn: (raw: Buffer) => unknown): Promise<number> {
  for (const raw of corpus) await fn(raw);
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const raw of corpus) await fn(raw);
  const perSecond = (rounds * corpus.length) / (Number(process.hrtime.bigint() - start) / 1e9);
  console.log(`${name.padEnd(28)} ${Math.round(perSecond).toString().padStart(8)} msgs/s`);
  return perSecond;
}

const headers = await rate('readHeaders', (raw) => readHeaders(raw));
const full = await rate('parseMessage', (raw) => parseMessage(raw));
const mailparser = await rate('mailparser simpleParser', (raw) => simpleParser(raw, { skipTextToHtml: true, skipHtmlToText: true, skipTextLinks: true }));
console.log(`readHeaders / simpleParser: ${(headers / mailparser).toFixed(1)}x; parseMessage / simpleParser: ${(full / mailparser).toFixed(1)}x`);
