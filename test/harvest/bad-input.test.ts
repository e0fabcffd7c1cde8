/** Point 10 of the issue: bad input never stops the run; each message gets a bucket and a one-line reason. */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HarvestResult, MessageResult } from '../../src/harvest/types.js';
import { corpusMessage, runHarvest, tempDir, writeConfig, writeMaildir } from './support.js';

const PATCH = corpusMessage('016-s2-1.eml').toString('utf8');
const [PATCH_HEAD, ...PATCH_BODY] = PATCH.split('\n\n');

/** A single patch mail from the corpus with another subject/Message-ID, or other header lines. */
function patchMail(opts: { subject?: string; id?: string | null; headers?: string[]; body?: string }): Buffer {
  const lines = PATCH_HEAD!.split('\n').filter((l) => !/^(In-Reply-To|References|Content-|MIME-Version)/i.test(l));
  const head = lines
    .map((l) => (l.startsWith('Subject:') && opts.subject !== undefined ? `Subject: ${opts.subject}` : l))
    .filter((l) => !(l.startsWith('Message-ID:') && opts.id === null))
    .map((l) => (l.startsWith('Message-ID:') && opts.id ? `Message-ID: <${opts.id}>` : l));
  const headers = opts.headers ?? ['MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit'];
  return Buffer.from([...head, ...headers].join('\n') + '\n\n' + (opts.body ?? PATCH_BODY.join('\n\n')));
}

function chatter(id: string, subject: string, body: string | Buffer, headers: string[] = []): Buffer {
  return Buffer.concat([Buffer.from(['From: Someone <someone@example.org>', `Subject: ${subject}`, `Message-ID: <${id}>`, 'Date: Fri, 10 Feb 2023 11:11:11 +0000', ...headers, '', ''].join('\n')), Buffer.from(body)]);
}

const bigBinary = randomBytes(3 * 1024 * 1024).toString('base64').replace(/.{76}/g, '$&\n');
const MAILS: Array<[string, Buffer]> = [
  ['malformed-mime', patchMail({ subject: '[master PATCH nbdkit] broken MIME', id: 'bad-mime@test', headers: ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="never-there"'] })],
  ['no-message-id', patchMail({ subject: '[master PATCH nbdkit] no message id', id: null })],
  ['raw-8bit-header', patchMail({ subject: '[master PATCH nbdkit] caf\xe9 na\xefve \xff', id: 'raw8bit@test' })],
  ['nul-in-diff', patchMail({ subject: '[master PATCH nbdkit] NUL', id: 'nul@test', body: PATCH_BODY.join('\n\n').replace('alphabetically', 'alpha\0betically').replace('+  "timeout=', '+  "time\0out=') })],
  ['fifty-mb', chatter('big@test', 'a very long log', ('build log line ' + 'x'.repeat(100) + '\n').repeat(440_000))],
  ['binary-attachment', patchMail({
    subject: '[master PATCH nbdkit] with a binary attachment',
    id: 'binary@test',
    headers: ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"'],
    body: ['--b1', 'Content-Type: text/plain; charset=UTF-8', '', PATCH_BODY.join('\n\n'), '--b1', 'Content-Type: application/octet-stream; name="core.bin"', 'Content-Transfer-Encoding: base64', '', bigBinary, '--b1--', ''].join('\n'),
  })],
  ['shell-branch', patchMail({ subject: '[ma$(reboot)ster PATCH nbdkit] shell metacharacters', id: 'shell@test' })],
  ['dotdot-branch', patchMail({ subject: '[../../etc PATCH nbdkit] dot dot', id: 'dotdot@test' })],
  ['dotdot-repo', patchMail({ subject: '[master PATCH ../nbdkit] dot dot repo', id: 'dotdot-repo@test' })],
  ['unknown-repo', patchMail({ subject: '[master PATCH qemu] not ours', id: 'qemu@test' })],
  ['unknown-branch', patchMail({ subject: '[stable-9 PATCH nbdkit] not configured', id: 'stable9@test' })],
  ['binary-chatter', chatter('blob@test', 'core dump attached', Buffer.concat([randomBytes(4096), Buffer.from([0, 0, 0xff])]))],
];

let result: HarvestResult;
let state: string;
beforeAll(async () => {
  const dir = tempDir('bad');
  state = join(dir, 'state');
  const maildir = writeMaildir(join(dir, 'Maildir'), MAILS.map(([, m]) => m));
  const run = await runHarvest(writeConfig(dir, [{ type: 'maildir', name: 'list', path: maildir }], { harvest: { maxMessageBytes: 40 * 1024 * 1024 } }), state);
  expect(run.code).toBe(0);
  result = run.result;
});

function message(name: string): MessageResult {
  const i = MAILS.findIndex(([n]) => n === name);
  return result.messages[i]!;
}

test('every bad mail is accounted for, each with one bucket', () => {
  expect(result.messages).toHaveLength(MAILS.length);
  expect(result.counts.seen).toBe(MAILS.length);
  for (const m of result.messages) if (m.bucket !== 'patch') expect(m.reason).toMatch(/^[^\n]+$/);
});

test.each([
  ['malformed-mime', 'quarantined', /no diff/],
  ['nul-in-diff', 'quarantined', /NUL byte/],
  // git mailinfo appends every part after the diff to the patch: raw binary there would break git am
  ['binary-attachment', 'quarantined', /NUL byte in the patch/],
  ['fifty-mb', 'quarantined', /over harvest.maxMessageBytes/],
  ['shell-branch', 'quarantined', /branch word "ma\$\(reboot\)ster" contains "\$": not a valid git branch name/],
  ['dotdot-branch', 'quarantined', /branch word "..\/..\/etc" contains ".."/],
  ['dotdot-repo', 'quarantined', /repo word "..\/nbdkit" contains ".."/],
  ['unknown-repo', 'quarantined', /repo "qemu" is not configured \(known: nbdkit\)/],
  ['unknown-branch', 'quarantined', /branch "stable-9" is not configured for repo nbdkit \(known: master, stable-1.32\)/],
  ['binary-chatter', 'other', /no patch tag/],
])('%s -> %s', (name, bucket, reason) => {
  expect([message(name).bucket, message(name).reason]).toEqual([bucket, expect.stringMatching(reason)]);
});

test('no Message-ID: keyed by the sha256 of the raw message', () => {
  const raw = MAILS.find(([n]) => n === 'no-message-id')![1];
  expect(message('no-message-id')).toMatchObject({ messageId: `sha256:${createHash('sha256').update(raw).digest('hex')}`, bucket: 'patch' });
});

test('raw 8-bit headers still give a patch, archived and ready', () => {
  expect(message('raw-8bit-header')).toMatchObject({ bucket: 'patch', subject: expect.stringContaining('caf') });
  const series = result.series.find((s) => s.patches[0]!.messageId === 'raw8bit@test')!;
  expect(series.status).toBe('ready');
  expect(existsSync(join(state, series.patches[0]!.file))).toBe(true);
});

test('nothing is written outside the archive for hostile branch and repo words', () => {
  expect(readdirSync(join(state, 'archive')).every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))).toBe(true);
  expect(existsSync(join(state, 'etc'))).toBe(false);
  expect(result.series.every((s) => s.repo === 'nbdkit' && ['master', 'stable-1.32'].includes(s.branch))).toBe(true);
});
