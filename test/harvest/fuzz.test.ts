/**
 * Fuzz: corpus mails mutated (bytes flipped, headers cut, MIME boundaries broken, encodings lied
 * about) through the harvest: no crash, every message accounted for in harvest.json.
 * PATCHLINE_FUZZ_COUNT overrides the 2,000 mails (`npm run test:fuzz` runs 20,000).
 */
import { join } from 'node:path';
import { BUCKETS, type MessageResult } from '../../src/harvest/types.js';
import { CORPUS_FILES, corpusMessage, runHarvest, seededRandom, tempDir, testSeed, writeConfig, writeMaildir } from './support.js';

const COUNT = Number(process.env.PATCHLINE_FUZZ_COUNT ?? 2000);
const ORIGINALS = CORPUS_FILES.map(corpusMessage);

type Mutation = (raw: Buffer, random: () => number) => Buffer;
const pick = <T>(list: T[], random: () => number): T => list[Math.floor(random() * list.length)]!;

function headerEnd(raw: Buffer): number {
  const at = raw.indexOf('\n\n');
  return at < 0 ? raw.length : at;
}

const MUTATIONS: Record<string, Mutation> = {
  flipBytes(raw, random) {
    const out = Buffer.from(raw);
    for (let n = 1 + Math.floor(random() * 20); n > 0; n--) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    return out;
  },
  cutHeaders(raw, random) {
    const lines = raw.subarray(0, headerEnd(raw)).toString('latin1').split('\n');
    const kept = lines.filter(() => random() > 0.4);
    return Buffer.concat([Buffer.from(kept.join('\n'), 'latin1'), raw.subarray(headerEnd(raw))]);
  },
  truncate(raw, random) {
    return raw.subarray(0, Math.floor(random() * raw.length));
  },
  breakBoundaries(raw, random) {
    const boundary = pick(['b1', '', '"', 'x'.repeat(200), '--'], random);
    const head = raw.subarray(0, headerEnd(raw)).toString('latin1').replace(/^Content-Type:.*$/im, '');
    const body = raw.subarray(headerEnd(raw)).toString('latin1');
    const cut = Math.floor(random() * body.length);
    return Buffer.from(`${head}\nContent-Type: multipart/mixed; boundary="${boundary}"\n\n--${boundary}\nContent-Type: text/plain\n${body.slice(0, cut)}\n--${boundary}\n${body.slice(cut)}${random() < 0.5 ? `\n--${boundary}--\n` : ''}`, 'latin1');
  },
  lieAboutEncoding(raw, random) {
    const encoding = pick(['base64', 'quoted-printable', 'x-uuencode', '8bit', 'bogus'], random);
    const charset = pick(['utf-16', 'iso-2022-jp', 'no-such-charset', 'utf-8', 'us-ascii'], random);
    const head = raw.subarray(0, headerEnd(raw)).toString('latin1').replace(/^Content-(Type|Transfer-Encoding):.*$/gim, '');
    return Buffer.concat([Buffer.from(`${head}\nContent-Type: text/plain; charset=${charset}\nContent-Transfer-Encoding: ${encoding}`, 'latin1'), raw.subarray(headerEnd(raw))]);
  },
  nulAndControl(raw, random) {
    const out = Buffer.from(raw);
    for (let n = 1 + Math.floor(random() * 5); n > 0; n--) out[Math.floor(random() * out.length)] = pick([0, 1, 0x1b, 0x7f, 0x0d], random);
    return out;
  },
  foldChaos(raw, random) {
    const head = raw.subarray(0, headerEnd(raw)).toString('latin1').replace(/ /g, () => (random() < 0.1 ? '\n\t' : ' '));
    return Buffer.concat([Buffer.from(head, 'latin1'), raw.subarray(headerEnd(raw))]);
  },
};

test(`${COUNT} mutated corpus mails: no crash, every one accounted for`, async () => {
  const random = seededRandom(testSeed());
  const names = Object.keys(MUTATIONS);
  const mails = Array.from({ length: COUNT }, () => {
    let raw = pick(ORIGINALS, random);
    for (let n = 1 + Math.floor(random() * 2); n > 0; n--) raw = MUTATIONS[pick(names, random)]!(raw, random);
    return raw;
  });
  const dir = tempDir('fuzz');
  const maildir = writeMaildir(join(dir, 'Maildir'), mails);
  const config = writeConfig(dir, [{ type: 'maildir', name: 'fuzz', path: maildir }]);
  const { code, result } = await runHarvest(config, join(dir, 'state'));
  expect(code).toBe(0);
  expect(result.messages).toHaveLength(COUNT);
  expect(new Set(result.messages.map((m) => m.source)).size).toBe(COUNT);
  expect(result.messages.every((m) => m.messageId.length > 0 && BUCKETS.includes(m.bucket))).toBe(true);
  expect(BUCKETS.reduce((n, b) => n + result.counts[b], 0)).toBe(COUNT);
  expect(result.counts.seen).toBe(COUNT);
  for (const m of result.messages) if (['quarantined', 'unroutable', 'duplicate', 'other'].includes(m.bucket)) expect(m.reason).toMatch(/^[^\r\n]+$/);
  // every key once in the seen-store; a duplicate names a key harvested before, or (a part sent
  // again under another key, its slot taken by the later send) the key that replaced it
  const replaced = (m: MessageResult) => / was sent again as (\S+): the later send is used/.exec(m.reason ?? '')?.[1];
  const firsts = result.messages.filter((m) => m.bucket !== 'duplicate' || replaced(m) !== undefined).map((m) => m.messageId);
  expect(new Set(firsts).size).toBe(firsts.length);
  expect(result.messages.filter((m) => m.bucket === 'duplicate').every((m) => firsts.includes(replaced(m) ?? m.messageId))).toBe(true);
  const again = await runHarvest(config, join(dir, 'state'));
  expect([again.code, again.result.counts.seen]).toEqual([0, 0]);
});
