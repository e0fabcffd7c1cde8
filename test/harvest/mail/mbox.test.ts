/**
 * splitMbox against the real `git mailsplit` (as git am runs it: -b, with and without --mboxrd):
 * every message is the bytes mailsplit writes for it, less its `From ` separator line.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFromLine, readMbox, splitMbox } from '../../../src/harvest/mail/mbox.js';
import { seededRandom, testSeed } from '../support.js';
import { CORPUS_DIR } from './git-mailinfo.js';

/** The files `git mailsplit -b` writes for `mbox`, each without its first (`From `) line unless `bare`. */
function gitMailsplit(mbox: Buffer, opts: { mboxrd?: boolean; bare?: boolean } = {}): Buffer[] {
  const dir = mkdtempSync(join(tmpdir(), 'patchline-mailsplit-'));
  try {
    const file = join(dir, 'mbox');
    writeFileSync(file, mbox);
    const out = join(dir, 'out');
    execFileSync('mkdir', [out]);
    execFileSync('git', ['mailsplit', '-b', `-o${out}`, ...(opts.mboxrd ? ['--mboxrd'] : []), '--', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    return readdirSync(out)
      .sort()
      .map((name) => readFileSync(join(out, name)))
      .map((m) => (opts.bare ? m : m.subarray(m.indexOf(0x0a) + 1 || m.length)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SEP = 'From a.sender@example.org Thu Jan  1 00:00:00 2026\n';
const text = (...lines: string[]) => Buffer.from(lines.join(''), 'latin1');

function expectSameAsGit(mbox: Buffer, opts: { mboxrd?: boolean } = {}): Buffer[] {
  const ours = splitMbox(mbox, { format: opts.mboxrd ? 'mboxrd' : 'mboxo' });
  const git = gitMailsplit(mbox, opts);
  expect(ours.map((m) => m.toString('latin1'))).toEqual(git.map((m) => m.toString('latin1')));
  return ours;
}

describe('splitMbox equals git mailsplit', () => {
  const mail = (n: number) => `Subject: [PATCH ${n}/18] change ${n}\nMessage-ID: <m${n}@example.org>\n\nbody ${n}\n`;
  const eighteen = Array.from({ length: 18 }, (_, i) => SEP + mail(i + 1) + '\n').join('');

  test('blank lines before the first From line: 18 messages, not one', () => {
    const ours = expectSameAsGit(Buffer.from('\n\n\n' + eighteen));
    expect(ours).toHaveLength(18);
    expect(ours[0]!.toString()).toBe(mail(1) + '\n');
    expect(readMbox(Buffer.from(' \t\r\n\n' + eighteen))).toMatchObject({ skipped: 0 });
  });

  test('text before the first From line is not a message', () => {
    const preamble = 'This file holds the archive of the list.\nFrom: not a separator\n\n';
    const { messages, skipped } = readMbox(Buffer.from('\n' + preamble + eighteen));
    expect(skipped).toBe(Buffer.byteLength(preamble));
    expect(messages.map(String)).toEqual(gitMailsplit(Buffer.from(eighteen)).map(String));
  });

  const quoting = text(
    SEP,
    'Subject: [PATCH] quote\n\n',
    '>From the start of a line, quoted by an mboxrd writer\n',
    '>>From deeper\n',
    'From here on it is prose, not a separator\n',
    '---\n',
    'diff --git a/f b/f\n',
    '\n',
    SEP,
    'Subject: two\n\nbody\n',
  );

  test('mboxo (the default): >From lines as they are, the blank line before the next From stays', () => {
    const [one, two] = expectSameAsGit(quoting);
    expect(one!.toString()).toContain('\n>From the start');
    expect(one!.toString()).toContain('\n>>From deeper');
    expect(one!.toString().endsWith('diff --git a/f b/f\n\n')).toBe(true);
    expect(two!.toString()).toBe('Subject: two\n\nbody\n');
  });

  test('mboxrd: one > less on >From lines', () => {
    const [one] = expectSameAsGit(quoting, { mboxrd: true });
    expect(one!.toString()).toContain('\nFrom the start');
    expect(one!.toString()).toContain('\n>From deeper');
  });

  test('an in-body format-patch From line splits the message, as git am does', () => {
    const mbox = text(SEP, 'Subject: [PATCH] a\n\nQuoting another patch:\n', 'From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n', 'Subject: quoted\n\nmore\n');
    expect(expectSameAsGit(mbox)).toHaveLength(2);
  });

  test('CRLF line ends become LF; a CR alone stays', () => {
    const mbox = text(SEP.replace('\n', '\r\n'), 'Subject: crlf\r\n\r\nbody\r\nbare\rcr\r\n>From x\r\n\r\n', SEP.replace('\n', '\r\n'), 'Subject: last\r\n\r\nno newline at the end\r');
    const [one, two] = expectSameAsGit(mbox);
    expect(one!.toString()).toBe('Subject: crlf\n\nbody\nbare\rcr\n>From x\n\n');
    expect(two!.toString()).toBe('Subject: last\n\nno newline at the end\r');
    expectSameAsGit(mbox, { mboxrd: true });
  });

  test('a file without any From line is one message (git am -b); empty or white space only is none', () => {
    const single = text('Subject: x\r\n\r\nbody\r\n>From y\n');
    expect(splitMbox(single).map(String)).toEqual(gitMailsplit(single, { bare: true }).map(String));
    expect(splitMbox(single, { format: 'mboxrd' }).map(String)).toEqual(gitMailsplit(single, { bare: true, mboxrd: true }).map(String));
    expect(splitMbox(Buffer.alloc(0))).toEqual([]);
    expect(splitMbox(Buffer.from(' \n\n\t'))).toEqual([]);
  });

  test("is_from_line's edges: 19 and 20 bytes, years 90 and 91, a colon at the end", () => {
    for (const [line, want] of [
      ['From a 00:00 91\n', false],
      ['From ab 00:00:00 91\n', true],
      ['From ab 00:00:00 90\n', false],
      ['From a 0:00:00 2001\n', true],
      ['From abcdefghijklmn:\n', false],
      ['From x Mon Sep 17 00:00:00 +2001\n', true],
    ] as const) {
      expect([line, isFromLine(line)]).toEqual([line, want]);
      const mbox = Buffer.from(SEP + 'Subject: a\n\nx\n' + line + 'Subject: b\n\ny\n');
      expectSameAsGit(mbox);
    }
  });

  test('the corpus mbox: 29 messages, each its .eml and the blank line mboxo writers put after it', () => {
    const messages = expectSameAsGit(readFileSync(join(CORPUS_DIR, 'all.mbox')));
    const files = readdirSync(join(CORPUS_DIR, 'messages')).filter((f) => f.endsWith('.eml')).sort();
    expect(messages).toHaveLength(29);
    messages.forEach((m, i) => expect(m.toString('latin1')).toBe(readFileSync(join(CORPUS_DIR, 'messages', files[i]!), 'latin1') + '\n'));
  });

  test('random mboxes of separator-like lines, both flavours', () => {
    const random = seededRandom(testSeed());
    const lines = [
      SEP,
      'From someone@example.org Sat Feb 30 12:34:56 1990\n',
      'From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n',
      'From the start\n',
      '>From quoted\n',
      '>>>From quoted thrice\n',
      '>From\n',
      ' From indented Thu Jan  1 00:00:00 2026\n',
      'Subject: x\n',
      '\n',
      '\r\n',
      'text\r\n',
      'From x Thu Jan  1 00:00:00 2026\r\n',
      'tail without newline',
      '\r',
      '>',
    ];
    for (let round = 0; round < 40; round++) {
      const parts = [SEP];
      const n = 1 + Math.floor(random() * 30);
      for (let i = 0; i < n; i++) parts.push(lines[Math.floor(random() * lines.length)]!);
      const mbox = Buffer.from(parts.join(''), 'latin1');
      expectSameAsGit(mbox);
      expectSameAsGit(mbox, { mboxrd: true });
    }
  });
});
