/** IMAP is incremental: a later run reads only new mail, completes held-back series, and archives nothing twice. */
import { appendFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendMessages, startDovecot, type Dovecot } from '../support/dovecot.js';
import { CORPUS_FILES, archiveStamps, corpusMessage, mboxOf, runHarvest, tempDir, writeConfig, writeMaildir } from './support.js';

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await startDovecot();
});
afterAll(async () => {
  await dovecot?.stop();
});

const S2_COVER = '20230208133000.3300412-1-rjones@redhat.com';
const S2_PART2 = '20230208133000.3300412-3-rjones@redhat.com';

/** The 2/4 of S2 that never arrived: the stable-1.32 backport's 2/4, re-sent as git send-email would have. */
function s2Part2(): Buffer {
  const text = corpusMessage('024-s3-2.eml').toString('utf8');
  const [head, ...body] = text.split('\n\n');
  const headers = head!
    .replace(/^Message-ID: .*$/im, `Message-ID: <${S2_PART2}>`)
    .replace(/^In-Reply-To: .*$/im, `In-Reply-To: <${S2_COVER}>`)
    .replace(/^References: .*$/im, `References: <${S2_COVER}>`)
    .replace(/^Date: .*$/im, 'Date: Wed, 8 Feb 2023 13:30:02 +0000')
    .replace('[stable-1.32 PATCH nbdkit 2/4]', '[master PATCH nbdkit 2/4]');
  return Buffer.from([headers, ...body].join('\n\n'));
}

test('the missing 2/4 arrives later: S2 becomes ready, nothing else is archived again; a UIDVALIDITY change rescans', async () => {
  process.env.PL_TEST_IMAP_PASSWORD = dovecot.password;
  await appendMessages(dovecot, 'INBOX', CORPUS_FILES.map(corpusMessage));
  const dir = tempDir('incremental');
  const state = join(dir, 'state');
  const config = writeConfig(dir, [{ type: 'imap', name: 'list', host: dovecot.host, port: dovecot.port, security: 'plain', user: dovecot.user, password: { env: 'PL_TEST_IMAP_PASSWORD' } }]);

  const first = await runHarvest(config, state);
  expect(first.code).toBe(0);
  const s2 = first.result.series.find((s) => s.coverMessageId === S2_COVER)!;
  expect([s2.status, s2.missing]).toEqual(['incomplete', [2]]);
  const before = archiveStamps(state);

  await appendMessages(dovecot, 'INBOX', [s2Part2()]);
  const second = await runHarvest(config, state);
  expect(second.code).toBe(0);
  expect(second.result.messages.map((m) => [m.messageId, m.bucket, m.number])).toEqual([[S2_PART2, 'patch', 2]]);
  expect(second.result.sources[0]).toMatchObject({ seen: 1, lastUid: 30 });
  expect(second.result.series.map((s) => [s.id, s.status, s.patches.map((p) => p.number)])).toEqual([[s2.id, 'ready', [1, 2, 3, 4]]]);
  const after = archiveStamps(state);
  const s2Dir = s2.archiveDir!.replace(/^archive\//, '') + '/';
  const unchanged = (stamps: Record<string, string>) => Object.fromEntries(Object.entries(stamps).filter(([rel]) => !rel.startsWith(s2Dir)));
  expect(unchanged(after)).toEqual(unchanged(before));
  expect(Object.keys(after).filter((rel) => rel.startsWith(s2Dir)).map((rel) => rel.slice(s2Dir.length))).toEqual([
    '0000-cover-letter.eml',
    '0001-curl-Order-help-output-alphabetically.eml',
    '0001-curl-Order-help-output-alphabetically.patch',
    '0002-file-Fix-typo-in-help-output.eml',
    '0002-file-Fix-typo-in-help-output.patch',
    '0003-file-Document-fd-dirfd-parameters-in-help-output.eml',
    '0003-file-Document-fd-dirfd-parameters-in-help-output.patch',
    '0004-data-Document-various-plugin-parameters-in-help-outp.eml',
    '0004-data-Document-various-plugin-parameters-in-help-outp.patch',
    'series.json',
  ]);

  // dovecot forgets its UIDs (index and uidlist gone): a new UIDVALIDITY, everything is read again, nothing archived twice.
  // dovecot takes the new UIDVALIDITY from the clock in seconds: let one pass, or it may equal the old one.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  for (const f of readdirSync(dovecot.maildir)) if (f.startsWith('dovecot')) rmSync(join(dovecot.maildir, f), { recursive: true, force: true });
  const third = await runHarvest(config, state);
  expect(third.code).toBe(0);
  expect(third.result.sources[0]).toMatchObject({ seen: 30, rescanned: true });
  expect(third.result.counts).toMatchObject({ seen: 30, duplicate: 30 });
  expect(third.result.messages.every((m) => /already harvested/.test(m.reason ?? ''))).toBe(true);
  expect(archiveStamps(state)).toEqual(after);
});

test('an mbox that grows is read from where the last run stopped; a rewritten one is read again, as duplicates', async () => {
  const dir = tempDir('incremental-mbox');
  const path = join(dir, 'list.mbox');
  const messages = CORPUS_FILES.map(corpusMessage);
  writeFileSync(path, mboxOf(messages.slice(0, 20)));
  const config = writeConfig(dir, [{ type: 'mbox', name: 'list', path }]);
  const state = join(dir, 'state');
  expect((await runHarvest(config, state)).result.counts.seen).toBe(20);
  appendFileSync(path, mboxOf(messages.slice(20)));
  const grown = await runHarvest(config, state);
  expect(grown.result.messages.map((m) => m.source)).toEqual(messages.slice(20).map((_, i) => `list:#${21 + i}`));
  expect(grown.result.sources[0]).not.toHaveProperty('rescanned');
  expect((await runHarvest(config, state)).result.counts.seen).toBe(0);
  writeFileSync(path, mboxOf([...messages].reverse()));
  const rewritten = await runHarvest(config, state);
  expect(rewritten.result.sources[0]).toMatchObject({ seen: 29, rescanned: true });
  expect(rewritten.result.counts.duplicate).toBe(29);
});

test('a Maildir message moved from new/ to cur/ by a mail client is not read again', async () => {
  const dir = tempDir('incremental-maildir');
  const maildir = writeMaildir(join(dir, 'Maildir'), CORPUS_FILES.slice(0, 5).map(corpusMessage));
  const config = writeConfig(dir, [{ type: 'maildir', name: 'list', path: maildir }]);
  const state = join(dir, 'state');
  expect((await runHarvest(config, state)).result.counts.seen).toBe(5);
  for (const f of readdirSync(join(maildir, 'new'))) renameSync(join(maildir, 'new', f), join(maildir, 'cur', `${f}:2,S`));
  writeMaildir(maildir, [corpusMessage(CORPUS_FILES[5]!)], 5);
  const next = await runHarvest(config, state);
  expect(next.result.messages.map((m) => m.source)).toEqual([`list:new/${1700000005}.M5P1.test`]);
});
