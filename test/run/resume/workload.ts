/**
 * The mail workload of the resume tests: N patch series made with real git (commits in a clone
 * of the seeded hello remote, then `git format-patch`), so they apply where they should and fail
 * where they should. Dates and Message-IDs are fixed: every project gets byte-identical mail.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Git } from '../../../src/git/git.js';
import { DEMO_SOURCE } from '../../../src/run/demo.js';

export type Branch = 'main' | 'stable';

/** What the reference run should do with a series version. */
export type Fate = 'applied' | 'superseded' | 'conflict' | 'build-fails';

export interface SeriesSpec {
  key: string;
  branch: Branch;
  version: number;
  fate: Fate;
  author: { name: string; email: string };
  /** A cover letter (0/n) when set: its subject. */
  cover?: string;
  patches: Array<{ subject: string; files: Record<string, string> }>;
  /** Commit these first and send only what follows: the patches then lack their base (a conflict). */
  unsentBase?: Record<string, string>;
}

export interface Workload {
  series: SeriesSpec[];
  /** Every message as delivered to a mailbox (no mbox "From " line), in arrival order. */
  messages: Buffer[];
  /** The same messages as one mbox file. */
  mbox: Buffer;
}

const ADA = { name: 'Ada Lovelace', email: 'ada@example.org' };
const GRACE = { name: 'Grace Hopper', email: 'grace@example.com' };
const LINUS = { name: 'Linus Pauling', email: 'linus@example.net' };
const ROSALIND = { name: 'Rosalind Franklin', email: 'rosalind@example.org' };

const HELLO_SH = (greeting: string) => `#!/bin/sh\n# hello: the demo package of patchline.\n${greeting}\n`;
const SPEC = readFileSync(join(DEMO_SOURCE, 'hello', 'hello.spec'), 'utf8');

/** The six kinds of series: one of each fate, both branches, 1- and 3-patch series with covers. */
function baseSeries(): SeriesSpec[] {
  return [
    { key: 'greet', branch: 'main', version: 1, fate: 'applied', author: ADA, patches: [{ subject: 'hello: greet by name', files: { 'hello.sh': HELLO_SH('name="${1:-world}"\necho "Hello, ${name}!"') } }] },
    {
      key: 'docs', branch: 'main', version: 1, fate: 'applied', author: GRACE, cover: 'hello: user documentation',
      patches: [
        { subject: 'doc: add the usage page', files: { 'doc/usage.txt': 'usage: hello [NAME]\n' } },
        { subject: 'doc: add a FAQ', files: { 'doc/faq.txt': 'Q: why?\nA: because.\n' } },
        { subject: 'doc: list the pages', files: { 'doc/index.txt': 'usage.txt\nfaq.txt\n' } },
      ],
    },
    { key: 'stable-fix', branch: 'stable', version: 1, fate: 'applied', author: LINUS, patches: [{ subject: 'hello: say hello politely', files: { 'hello.sh': HELLO_SH('echo "Hello, world! Nice to meet you."') } }] },
    {
      key: 'colors', branch: 'stable', version: 1, fate: 'superseded', author: ROSALIND, cover: 'hello: colours',
      patches: [
        { subject: 'contrib: colour table', files: { 'contrib/colors.txt': 'red\n' } },
        { subject: 'contrib: colour helper', files: { 'contrib/colors.sh': 'echo red\n' } },
        { subject: 'contrib: colour notes', files: { 'contrib/NOTES': 'v1\n' } },
      ],
    },
    {
      key: 'colors', branch: 'stable', version: 2, fate: 'applied', author: ROSALIND, cover: 'hello: colours',
      patches: [
        { subject: 'contrib: colour table', files: { 'contrib/colors.txt': 'red\ngreen\n' } },
        { subject: 'contrib: colour helper', files: { 'contrib/colors.sh': 'echo red green\n' } },
        { subject: 'contrib: colour notes', files: { 'contrib/NOTES': 'v2\n' } },
      ],
    },
    {
      key: 'conflict', branch: 'main', version: 1, fate: 'conflict', author: GRACE,
      unsentBase: { 'README.md': '# hello\n\nA README that only the sender has.\n' },
      patches: [{ subject: 'README: reword the private README', files: { 'README.md': '# hello\n\nA README that nobody else has.\n' } }],
    },
    {
      key: 'broken', branch: 'main', version: 1, fate: 'build-fails', author: LINUS,
      patches: [{ subject: 'spec: fail the build on purpose', files: { 'hello.spec': SPEC.replace(/^%build$/m, '%build\nexit 1') } }],
    },
  ];
}

/** `count` distinct series: the six kinds, then plain 1-patch series on alternating branches (arriving before the broken build). */
export function seriesSpecs(count = 6): SeriesSpec[] {
  const base = baseSeries();
  const broken = base.pop()!;
  for (let i = 6; i < count; i++) {
    const branch: Branch = i % 2 === 0 ? 'main' : 'stable';
    base.push({ key: `extra-${i}`, branch, version: 1, fate: 'applied', author: ADA, patches: [{ subject: `extra: note ${i}`, files: { [`extra/note-${i}.txt`]: `note ${i}\n` } }] });
  }
  return [...base, broken];
}

const BASE_TIME = Date.parse('2026-11-20T08:00:00Z');
const dateOf = (series: number, message: number): Date => new Date(BASE_TIME + series * 3_600_000 + message * 60_000);
const DATE_RE = /^Date: .*$/m;

/** The Message-ID (without <>) of message `n` of a series version: 0 is its cover letter. */
export function messageId(s: SeriesSpec, n: number): string {
  return `resume-${s.key}-v${s.version}-${n}@patchline.test`;
}

/** Headers format-patch does not write (fixed ids and threading) into one format-patch message. */
function withHeaders(text: string, headers: string[], date: Date): string {
  const body = text.replace(/^From [0-9a-f]{40} .*\n/, '').replace(DATE_RE, `Date: ${date.toUTCString().replace('GMT', '+0000')}`);
  return [...headers, body].join('\n');
}

async function commitAll(git: Git, message: string, files: Record<string, string>, author: { name: string; email: string }, date: Date): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(git.dir, path)), { recursive: true });
    writeFileSync(join(git.dir, path), content);
  }
  await git.run(['add', '-A']);
  const iso = date.toISOString();
  await git.run(['commit', '-q', '-m', message], { env: { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_AUTHOR_DATE: iso, GIT_COMMITTER_NAME: author.name, GIT_COMMITTER_EMAIL: author.email, GIT_COMMITTER_DATE: iso } });
}

/** The mails of one series version: format-patch of its commits (and cover), with fixed ids, dates and threading. */
async function seriesMails(git: Git, s: SeriesSpec, index: number): Promise<string[]> {
  await git.run(['checkout', '-q', '-B', 'work', `origin/${s.branch}`]);
  if (s.unsentBase) await commitAll(git, 'private base', s.unsentBase, s.author, dateOf(index, 0));
  const base = (await git.output(['rev-parse', 'HEAD'])).trim();
  for (const [i, p] of s.patches.entries()) {
    await commitAll(git, `${p.subject}\n\nPart ${i + 1} of the ${s.key} series.\n\nSigned-off-by: ${s.author.name} <${s.author.email}>`, p.files, s.author, dateOf(index, i + 1));
  }
  const args = ['format-patch', '--stdout', '--no-thread', '--zero-commit', '--no-signature', `--subject-prefix=${s.branch} PATCH hello`];
  if (s.version > 1) args.push(`-v${s.version}`);
  if (s.cover) args.push('--cover-letter');
  // the cover letter's From is the committer identity: the series' author, not the machine's user
  const out = await git.output([...args, `${base}..HEAD`], { env: { GIT_COMMITTER_NAME: s.author.name, GIT_COMMITTER_EMAIL: s.author.email } });
  const parts = out.split(/^(?=From 0{40} Mon Sep 17 00:00:00 2001$)/m).filter(Boolean);
  const first = s.cover ? messageId(s, 0) : messageId(s, 1);
  return parts.map((text, i) => {
    const n = s.cover ? i : i + 1;
    const thread = n === (s.cover ? 0 : 1) ? [] : [`In-Reply-To: <${first}>`, `References: <${first}>`];
    const filled = text.replace('*** SUBJECT HERE ***', s.cover ?? '').replace('*** BLURB HERE ***', `The ${s.key} series, version ${s.version}.`);
    return withHeaders(filled, [`Message-Id: <${messageId(s, n)}>`, ...thread, 'To: hello-devel@lists.example.org'], dateOf(index, n));
  });
}

/** Make the workload against `remote` (seeded by seedRemote: every seeded remote is the same). */
export async function makeWorkload(remote: string, count = 6): Promise<Workload> {
  const scratch = mkdtempSync(join(tmpdir(), 'pl-harness-work-'));
  try {
    await new Git(tmpdir()).run(['clone', '-q', remote, scratch]);
    const git = new Git(scratch);
    const series = seriesSpecs(count);
    const texts: string[] = [];
    for (const [i, s] of series.entries()) texts.push(...(await seriesMails(git, s, i)));
    const messages = texts.map((t) => Buffer.from(t.endsWith('\n') ? t : `${t}\n`));
    const mbox = Buffer.concat(messages.map((m) => Buffer.concat([Buffer.from('From patchline-test Mon Sep 17 00:00:00 2001\n'), m, Buffer.from('\n')])));
    return { series, messages, mbox };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `count` plain mails (bucket other) of about `size` bytes: they make an IMAP fetch take a moment. */
export function paddingMails(count: number, size = 4096): Buffer[] {
  const line = 'Minutes of the weekly call; nothing to apply here, just words.\n';
  const body = line.repeat(Math.max(1, Math.ceil(size / line.length)));
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(`Message-Id: <pad-${i}@patchline.test>\nFrom: Chatty Person <chatty@example.org>\nTo: hello-devel@lists.example.org\nDate: ${dateOf(0, 0).toUTCString().replace('GMT', '+0000')}\nSubject: weekly call notes ${i}\n\n${body}`),
  );
}
