/** The shared corpus over a real dovecot (TLS, STARTTLS), an mbox and a Maildir: every bucket and series as expected.json says. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { latestRunDir } from '../../src/core/results.js';
import type { HarvestResult, SeriesResult } from '../../src/harvest/types.js';
import { appendMessages, startDovecot, type Dovecot } from '../support/dovecot.js';
import { CORPUS, CORPUS_FILES, EXPECTED, archiveSnapshot, corpusMessage, mboxOf, outcomeOf, runHarvest, seededRandom, tempDir, testSeed, writeConfig, writeMaildir } from './support.js';

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await startDovecot({ tls: true });
  await appendMessages(dovecot, 'INBOX', CORPUS_FILES.map(corpusMessage));
});
afterAll(async () => {
  await dovecot?.stop();
});

function imapSource(security: 'tls' | 'starttls' | 'plain') {
  return {
    type: 'imap',
    name: 'list',
    host: dovecot.host,
    port: security === 'tls' ? dovecot.tlsPort : dovecot.port,
    security,
    tlsRejectUnauthorized: false,
    user: dovecot.user,
    password: { env: 'PL_TEST_IMAP_PASSWORD' },
  };
}

async function harvestWith(source: unknown): Promise<{ result: HarvestResult; state: string }> {
  process.env.PL_TEST_IMAP_PASSWORD = dovecot.password;
  const dir = tempDir('corpus');
  const state = join(dir, 'state');
  const { code, result } = await runHarvest(writeConfig(dir, [source]), state);
  expect(code).toBe(0);
  return { result, state };
}

function expectedBucket(m: (typeof EXPECTED.messages)[number]): string {
  return m.kind === 'patch' && m.route === null ? 'unroutable' : m.kind;
}

function seriesBy(result: HarvestResult, coverFile: string): SeriesResult {
  const cover = EXPECTED.messages.find((m) => m.file === `messages/${coverFile}`)!;
  const found = result.series.find((s) => s.coverMessageId === cover.message_id || s.patches.some((p) => p.messageId === cover.message_id));
  if (!found) throw new Error(`no series for ${coverFile}`);
  return found;
}

function checkCorpusOutcome(result: HarvestResult, state: string): void {
  // every message, in arrival order, in its bucket
  expect(result.messages.map((m) => [m.messageId, m.bucket])).toEqual(EXPECTED.messages.map((m) => [m.message_id, expectedBucket(m)]));
  expect(result.counts).toEqual({ seen: 29, patch: 16, cover: 4, comment: 5, 'pull-request': 1, other: 1, duplicate: 1, unroutable: 1, quarantined: 0 });
  const dup = result.messages[24]!;
  expect(dup.reason).toMatch(/already harvested .* as patch/);
  expect(result.messages[0]!.reason).toMatch(/no branch and no repo/);

  const s1v1 = seriesBy(result, '003-s1v1-0.eml');
  const s1v2 = seriesBy(result, '008-s1v2-0.eml');
  const s2 = seriesBy(result, '015-s2-0.eml');
  const s3 = seriesBy(result, '020-s3-0.eml');
  const s4 = seriesBy(result, '002-s4-single.eml');
  const s5 = seriesBy(result, '029-s5-single.eml');
  expect(result.series).toHaveLength(6);
  // in arrival order of their first message: apply takes a branch's series in this order
  expect(result.series.map((s) => s.id)).toEqual([s4, s1v1, s1v2, s2, s3, s5].map((s) => s.id));
  expect([s1v1.status, s1v1.supersededBy]).toEqual(['superseded', s1v2.id]);
  expect([s1v2.status, s1v2.version, s1v2.total, s1v2.patches.length]).toEqual(['ready', 2, 4, 4]);
  const reviewed = 'Reviewed-by: Reviewer One <reviewer1@example.org>';
  const tested = 'Tested-by: Tester Two <tester2@example.net>';
  expect(s1v2.patches.map((p) => p.trailers)).toEqual([[reviewed], [reviewed], [reviewed, tested], [reviewed]]);
  expect(s1v1.patches.every((p) => p.trailers.length === 0)).toBe(true);
  expect([s2.status, s2.missing, s2.patches.map((p) => p.number)]).toEqual(['incomplete', [2], [1, 3, 4]]);
  expect([s3.status, s3.branch, s3.patches.map((p) => p.number)]).toEqual(['ready', 'stable-1.32', [1, 2, 3, 4]]);
  expect(s3.patches.map((p) => p.messageId)).toEqual(['022', '024', '021', '023'].map((n) => EXPECTED.messages.find((m) => m.file.startsWith(`messages/${n}`))!.message_id));
  expect(s2.branch).toBe('master');

  // authors, subjects and archive days of every patch, as expected.json gives them
  for (const s of [s1v1, s1v2, s2, s3, s4, s5]) {
    for (const p of s.patches) {
      const e = EXPECTED.messages.find((m) => m.message_id === p.messageId && m.kind === 'patch')!;
      expect([p.author, p.subject]).toEqual([{ name: e.from_name, email: e.from_email }, e.commit_subject]);
      expect(readFileSync(join(state, p.file), 'utf8')).toContain(`Subject: [PATCH`);
      expect(existsSync(join(state, p.eml!))).toBe(true);
    }
    const first = EXPECTED.messages.filter((m) => s.patches.some((p) => p.messageId === m.message_id) || m.message_id === s.coverMessageId).map((m) => m.archive_day_utc).sort()[0];
    expect(s.archiveDir).toMatch(new RegExp(`^archive/${first}/nbdkit/${s.branch}/${s.id}$`));
    expect(JSON.parse(readFileSync(join(state, s.archiveDir!, 'series.json'), 'utf8'))).toMatchObject({ id: s.id, status: s.status });
  }
  expect(s4.patches[0]!.author).toEqual({ name: 'Thomas Weißschuh', email: 'thomas@t-8ch.de' });
  expect(s4.archiveDir).toMatch(/^archive\/2023-01-13\//);
  expect(s5.patches[0]!.subject).toBe('build: Silence some cppcheck warnings [partial port]');
  expect(readFileSync(join(state, s1v2.patches[2]!.file), 'utf8')).toContain(tested);
}

describe('the shared corpus', () => {
  let imap: { result: HarvestResult; state: string };

  test('over IMAP (TLS): every message and series as expected.json says', async () => {
    imap = await harvestWith(imapSource('tls'));
    checkCorpusOutcome(imap.result, imap.state);
    expect(imap.result.sources).toEqual([{ name: 'list', type: 'imap', seen: 29, uidValidity: expect.any(String), lastUid: 29 }]);
  });

  test('the run dir holds the series it harvested, as in the archive (Jenkins archives the run dir)', () => {
    const runDir = latestRunDir(imap.state)!;
    const inArchive = archiveSnapshot(imap.state);
    expect(Object.keys(inArchive)).toHaveLength(imap.result.series.reduce((n, s) => n + readdirSync(join(imap.state, s.archiveDir!)).length, 0));
    expect(archiveSnapshot(runDir)).toEqual(inArchive);
  });

  test('a second harvest of the same mailbox reads and archives nothing', async () => {
    const before = archiveSnapshot(imap.state);
    const config = join(imap.state, '..', 'patchline.yaml');
    const again = await runHarvest(config, imap.state);
    expect(again.code).toBe(0);
    expect(again.result.counts.seen).toBe(0);
    expect(again.result.series.map((s) => s.status)).toEqual(['incomplete']);
    expect(archiveSnapshot(imap.state)).toEqual(before);
  });

  test('STARTTLS, the mbox and the Maildir dovecot wrote give the same outcome as IMAP', async () => {
    const want = outcomeOf([imap.result]);
    const starttls = await harvestWith(imapSource('starttls'));
    expect(outcomeOf([starttls.result])).toEqual(want);
    const mbox = await harvestWith({ type: 'mbox', name: 'list', path: join(CORPUS, 'all.mbox') });
    checkCorpusOutcome(mbox.result, mbox.state);
    expect(outcomeOf([mbox.result])).toEqual(want);
    const maildir = await harvestWith({ type: 'maildir', name: 'list', path: dovecot.maildir });
    expect(outcomeOf([maildir.result])).toEqual(want);
  });

  test('any arrival order, in any number of runs, gives the same archive', async () => {
    // the reference is the Maildir in arrival order: an mbox message keeps the blank line before the next From line (as git mailsplit writes it)
    const inOrder = await harvestWith({ type: 'maildir', name: 'list', path: writeMaildir(join(tempDir('in-order'), 'Maildir'), CORPUS_FILES.map(corpusMessage)) });
    const want = archiveSnapshot(inOrder.state);
    const random = seededRandom(testSeed());
    for (let round = 0; round < 3; round++) {
      const files = [...CORPUS_FILES].sort(() => random() - 0.5);
      const dir = tempDir('order');
      const state = join(dir, 'state');
      const maildir = join(dir, 'Maildir');
      const config = writeConfig(dir, [{ type: 'maildir', name: 'list', path: maildir }]);
      const cuts = [Math.floor(random() * 29), Math.floor(random() * 29)].sort((a, b) => a - b);
      const results: HarvestResult[] = [];
      for (const [from, to] of [[0, cuts[0]!], [cuts[0]!, cuts[1]!], [cuts[1]!, 29]]) {
        writeMaildir(maildir, files.slice(from, to).map(corpusMessage), from);
        const { code, result } = await runHarvest(config, state);
        expect(code).toBe(0);
        results.push(result);
      }
      expect(archiveSnapshot(state)).toEqual(want);
      expect(results.reduce((n, r) => n + r.counts.seen, 0)).toBe(29);
    }
  });
});
