/** Bad input never stops anything: every function returns a classification or a reason, never throws. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyMessage } from '../../../src/harvest/classify.js';
import { parseMessage } from '../../../src/harvest/mail/extract.js';
import { readHeaders } from '../../../src/harvest/mail/headers.js';
import { renderPatchBytes } from '../../../src/harvest/patch-file.js';
import { CORPUS_DIR, VECTOR_DIR, emlFiles } from './git-mailinfo.js';
import { VECTOR_CONFIG } from './vector-config.js';

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MUTATIONS: Array<(raw: Buffer, rnd: () => number) => Buffer> = [
  (raw, rnd) => {
    const out = Buffer.from(raw);
    for (let i = 0; i < 1 + rnd() * 20; i++) out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
    return out;
  },
  (raw, rnd) => raw.subarray(0, Math.floor(rnd() * raw.length)),
  (raw) => Buffer.from(raw.toString('latin1').replace(/^--[^\n]*$/m, '--broken'), 'latin1'),
  (raw) => Buffer.from(raw.toString('latin1').replace(/Content-Transfer-Encoding: [^\n]*/i, 'Content-Transfer-Encoding: base64'), 'latin1'),
  (raw) => Buffer.from(raw.toString('latin1').replace(/charset=[^\s;]*/i, 'charset=x-no-such-charset'), 'latin1'),
  (raw) => Buffer.from(raw.toString('latin1').replace(/\n\n/, '\n'), 'latin1'),
  (raw, rnd) => Buffer.concat([raw, Buffer.alloc(Math.floor(rnd() * 2000), 0)]),
  (raw) => Buffer.from(raw.toString('latin1').replace(/^Subject: /m, 'Subject: =?utf-8?q?broken'), 'latin1'),
];

test('1,000 mutated mails: no throw, every one classified with a one-line reason where there is one', () => {
  const originals = [...emlFiles(join(CORPUS_DIR, 'messages')), ...emlFiles(VECTOR_DIR)].map((f) => readFileSync(f));
  const rnd = prng(20230204);
  const buckets = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    let raw: Buffer = originals[i % originals.length]!;
    for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) raw = MUTATIONS[Math.floor(rnd() * MUTATIONS.length)]!(raw, rnd);
    const headers = readHeaders(raw);
    const parsed = parseMessage(raw);
    const c = classifyMessage(parsed.headers, parsed.extraction, { config: VECTOR_CONFIG, unusable: parsed.unusable });
    buckets.add(c.bucket);
    expect(headers.subject).toBe(parsed.headers.subject);
    if (c.bucket === 'quarantined' || c.bucket === 'unroutable') expect(c.reason).toMatch(/^[^\n]+$/);
    if (c.bucket === 'patch') expect(() => renderPatchBytes(parsed.extraction, { messageId: 'm@x' })).not.toThrow();
  }
  expect([...buckets].sort()).toEqual(expect.arrayContaining(['comment', 'other', 'patch', 'quarantined']));
});

test('a 50 MB patch mail parses whole, and its headers are read without touching the body', () => {
  const line = '+' + 'x'.repeat(70) + '\n';
  const lines = Math.ceil((50 * 1024 * 1024) / line.length);
  const diff = `---\ndiff --git a/big b/big\nnew file mode 100644\n--- /dev/null\n+++ b/big\n@@ -0,0 +1,${lines} @@\n` + line.repeat(lines);
  const raw = Buffer.from(`From: Big <big@example.org>\nSubject: [main PATCH hello] big: add\nMessage-ID: <big@x>\nDate: Mon, 6 Mar 2023 10:20:30 +0100\n\nA big file.\n${diff}`);
  expect(readHeaders(raw)).toMatchObject({ messageId: 'big@x', tag: { branch: 'main', repo: 'hello' } });
  const parsed = parseMessage(raw);
  expect(parsed.unusable).toBeUndefined();
  expect(parsed.extraction.diff.length).toBe(diff.length);
  expect(classifyMessage(parsed.headers, parsed.extraction, { config: VECTOR_CONFIG }).bucket).toBe('patch');
});

test('a 50 MB single line of garbage is other, not a hang', () => {
  const raw = Buffer.concat([Buffer.from('Subject: x\n\n'), Buffer.alloc(50 * 1024 * 1024, 0x5b)]);
  const parsed = parseMessage(raw);
  expect(classifyMessage(parsed.headers, parsed.extraction, {}).bucket).toBe('other');
});
