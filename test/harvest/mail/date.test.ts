/**
 * Dates against real git: `git var GIT_AUTHOR_IDENT` reads GIT_AUTHOR_DATE with the parser git
 * am uses for a mail's Date (fmt_ident -> parse_date), and says "invalid date format" where git
 * am would stop.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitDateSeconds, parseGitDate } from '../../../src/harvest/mail/date.js';
import { parseDate } from '../../../src/harvest/mail/headers.js';
import { seededRandom, testSeed } from '../support.js';

/** The seconds git gives `date`, or undefined when git refuses it. */
function gitSeconds(date: string): number | undefined {
  const run = spawnSync('git', ['var', 'GIT_AUTHOR_IDENT'], { env: { ...process.env, GIT_AUTHOR_NAME: 'A', GIT_AUTHOR_EMAIL: 'a@example.org', GIT_AUTHOR_DATE: date } });
  if (run.status !== 0) {
    expect(run.stderr.toString()).toContain('invalid date format');
    return undefined;
  }
  const stamp = / (\d+) [+-]\d{4}\n$/.exec(run.stdout.toString())![1]!;
  // git prints a time before 1970 as an unsigned 64-bit number
  return Number(BigInt.asIntN(64, BigInt(stamp)));
}

const DATES = [
  'Tue, 2 Jan 2024 03:04:05 +0000',
  'Tue, 2 Jan 2024 03:04:05 -0500 (EST)',
  'Tue,  2 Jan 2024 03:04:05 +0100 (CET)',
  'Tue, 2 Jan 2024 03:04:05 GMT',
  'Tue, 2 Jan 2024 03:04:05 EDT',
  'Tue, 2 Jan 2024 03:04:05 MEST',
  'Tue, 2 Jan 2024 03:04:05 +05:30',
  'Tue, 2 Jan 2024 3:04 pm',
  'Tue, 2 Jan 2024 12:04 AM +0000',
  'Tue, 2 Jan 2024 03:04:05',
  '2 Jan 2024 03:04 +0000',
  'Jan 2024 10:00',
  '1 Jan 2024',
  // year 99999, year 0001 (a zone to git), two-digit years, the edges of git's calendar
  'Mon, 1 Jan 99999 00:00:00 +0000',
  'Mon, 1 Jan 0001 00:00:00 +0000',
  'Mon, 1 Jan 0001 00:00:00',
  'Mon, 1 Jan 24 10:00:00 +0000',
  'Mon, 1 Jan 05 10:00:00 +0000',
  'Mon, 1 Jan 69 10:00:00 +0000',
  'Mon, 1 Jan 70 10:00:00 +0000',
  'Mon, 1 Jan 99 10:00:00 +0000',
  'Fri, 1 Jan 2100 00:00:00 +0000',
  'Thu, 31 Dec 2099 23:59:59 +0000',
  'Thu, 31 Dec 2099 23:59:59 -0100',
  'Thu, 1 Jan 1970 00:00:00 +0100',
  'Mon, 1 Jan 1969 00:00:00 +0000',
  'Tue, 30 Feb 2024 03:04:05 +0000',
  'Tue, 2 Jan 2024 25:04:05 +0000',
  'Tue, 2 Jan 2024 24:00:00 +0000',
  'Tue, 2 Jan 2024 03:04:60 +0000',
  'Tue, 2 Jan 2024 03:04:05 +2400',
  'Tue, 2 Jan 2024 03:04:05 +0099',
  'Tue, 2 Jan 2024 03:04:05 +1',
  'Tue, 2 Jan 2024 03:04:05 -05:',
  '2024-01-02 03:04:05 +0200',
  '2024-01-02T03:04:05Z',
  '2024-01-02T03:04:05.123Z',
  '20240102T030405',
  '2024.01.02 03:04',
  '02.01.2024 03:04',
  '01/02/2024 10:00',
  '9999-01-02 03:04:05',
  '1700000000',
  '1700000000 +0100',
  '@1700000000 +0100',
  '@1700000000 +01000',
  'garbage',
  '   ',
  'T1 123456789',
  'Tx 123456789',
  '2024-01-02 T1 PM +0000',
  'Tuesday, January 2nd 2024 at 3:04:05 in the afternoon',
];

describe('gitDateSeconds equals git', () => {
  test.each(DATES.map((d) => [d]))('%j', (date) => {
    expect(gitDateSeconds(date)).toBe(gitSeconds(date));
  });

  test('random dates made of date-like words', () => {
    const random = seededRandom(testSeed());
    const words = ['Mon,', 'Tue', 'Jan', 'feb', 'December', '1', '02', '13', '24', '31', '32', '69', '70', '99', '100', '0001', '1400', '1401', '1969', '1970', '2024', '2099', '2100', '99999', '12345678', '20240102', '030405', '123456789', '03:04', '03:04:05', '25:00', '3:4:5', '2024-01-02', '2024-13-02', '02/01/2024', '1.2.24', '+0000', '-0500', '+05:30', '+1', 'GMT', 'UTC', 'Z', 'EST', 'CEST', 'PM', 'am', 'T12', '(UTC)', ',', 'x'];
    for (let i = 0; i < 150; i++) {
      const n = 1 + Math.floor(random() * 7);
      const date = Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(random() < 0.8 ? ' ' : '');
      expect([date, gitDateSeconds(date)]).toEqual([date, gitSeconds(date)]);
    }
  });
});

describe('git am', () => {
  test('records the author date gitDateSeconds gives, and stops where it gives none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patchline-date-am-'));
    try {
      const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=C', '-c', 'user.email=c@example.org', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      git('init', '-q');
      git('commit', '-q', '--allow-empty', '-m', 'base');
      ['Fri, 1 Jan 05 10:00:00 +0200', 'Fri, 1 Jan 99 10:00:00 -0500', 'Tue, 2 Jan 2024 3:04 pm EST', 'Mon, 1 Jan 0001 00:00:00 +0000', 'Mon, 1 Jan 24 10:00:00 +0000'].forEach((date, i) => {
        const mail = join(dir, `${i}.eml`);
        writeFileSync(mail, `From: A <a@example.org>\nSubject: [PATCH] ${i}\nDate: ${date}\n\nmsg\n---\ndiff --git a/f${i} b/f${i}\nnew file mode 100644\n--- /dev/null\n+++ b/f${i}\n@@ -0,0 +1 @@\n+x\n`);
        const want = gitDateSeconds(date);
        if (want === undefined) {
          expect(() => git('am', '-q', mail)).toThrow(/invalid date format/);
          git('am', '--abort');
        } else {
          git('am', '-q', mail);
          expect([date, Number(git('log', '-1', '--format=%at').trim())]).toEqual([date, want]);
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Date a series is filed under', () => {
  test('a date git cannot read, or outside 1970-2099, has none: the series goes under the day it was harvested', () => {
    expect(parseGitDate('Mon, 1 Jan 99999 00:00:00 +0000')).toBeUndefined();
    expect(parseGitDate('Mon, 1 Jan 0001 00:00:00 +0000')).toBeUndefined();
    expect(parseGitDate('Mon, 1 Jan 24 10:00:00 +0000')).toBeUndefined();
    expect(parseGitDate('@9999999999 +0000')).toBeUndefined();
    expect(parseGitDate('Mon, 1 Jan 05 10:00:00 +0000')?.toISOString()).toBe('2005-01-01T10:00:00.000Z');
    expect(parseDate('Mon, 1 Jan 99 10:00:00 -0200')?.toISOString()).toBe('1999-01-01T12:00:00.000Z');
    expect(parseDate('Mon, 1 Jan 99999 00:00:00 +0000')).toBeUndefined();
  });
});
