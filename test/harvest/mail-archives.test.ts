/**
 * What real mail archives showed (issue 18, items 1-9), through the harvest step: mbox files as
 * git am reads them, bogus charsets, resends without a version, covers without threading, parts
 * past their total, a default route per source, dates git cannot read, bodies too large to be a
 * commit message. Every mail here is written by the test.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import type { HarvestResult, MessageResult, SeriesResult } from '../../src/harvest/types.js';
import { runHarvest, tempDir, writeConfig } from './support.js';

interface Mail {
  id: string;
  subject: string;
  from?: string;
  date?: string;
  inReplyTo?: string;
  body?: string;
  /** The diff after the `---` line; false for none. */
  diff?: string | false;
  contentType?: string;
}

const ANN = 'Ann Author <ann@example.org>';
const newFile = (name: string) => `diff --git a/${name} b/${name}\nnew file mode 100644\n--- /dev/null\n+++ b/${name}\n@@ -0,0 +1 @@\n+${name}\n`;

function mail(m: Mail): string {
  const head = [
    `From: ${m.from ?? ANN}`,
    `Subject: ${m.subject}`,
    `Date: ${m.date ?? 'Wed, 1 Feb 2023 10:00:00 +0000'}`,
    `Message-ID: <${m.id}>`,
    ...(m.inReplyTo ? [`In-Reply-To: <${m.inReplyTo}>`, `References: <${m.inReplyTo}>`] : []),
    'MIME-Version: 1.0',
    `Content-Type: ${m.contentType ?? 'text/plain; charset=UTF-8'}`,
    'Content-Transfer-Encoding: 8bit',
  ];
  const diff = m.diff === false ? '' : `---\n${m.diff ?? newFile(m.id.replace(/@.*/, ''))}`;
  return `${head.join('\n')}\n\n${m.body ?? 'Explain the change.\n\nSigned-off-by: Ann Author <ann@example.org>\n'}${diff}`;
}

/** An mbox as list archives write one: `From ` line, the mail, a blank line. */
function mbox(mails: Mail[]): string {
  return mails.map((m) => `From ann@example.org Wed Feb  1 10:00:00 2023\n${mail(m)}\n`).join('');
}

/** Harvest `text` as an mbox source (with `source` settings) into a fresh state dir. */
async function harvestMbox(text: string | Buffer, source: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<{ result: HarvestResult; state: string }> {
  const dir = tempDir('archives');
  writeFileSync(join(dir, 'list.mbox'), text);
  const state = join(dir, 'state');
  const { code, result } = await runHarvest(writeConfig(dir, [{ type: 'mbox', name: 'list', path: join(dir, 'list.mbox'), ...source }], extra), state);
  expect(code).toBe(0);
  const sum = Object.entries(result.counts).reduce((n, [k, v]) => (k === 'seen' ? n : n + v), 0);
  expect(sum).toBe(result.counts.seen);
  return { result, state };
}

const byId = (result: HarvestResult, id: string): MessageResult => result.messages.find((m) => m.messageId === id)!;
const seriesOf = (result: HarvestResult, id: string): SeriesResult => result.series.find((s) => s.coverMessageId === id || s.patches.some((p) => p.messageId === id))!;

/** A scratch repository with one commit, for git am. */
function scratchRepo(): { git: (...args: string[]) => string; dir: string } {
  const dir = tempDir('am');
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_COMMITTER_NAME: 'C', GIT_COMMITTER_EMAIL: 'c@example.org' } }).toString();
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  writeFileSync(join(dir, 'README'), 'base\n');
  git('add', 'README');
  git('-c', 'user.name=C', '-c', 'user.email=c@example.org', 'commit', '-q', '-m', 'base');
  return { git, dir };
}

describe('1, 2: an mbox is read as git am reads it', () => {
  test('three blank lines before the first From line: 18 messages, not one', async () => {
    const parts: Mail[] = [{ id: 'c0@x', subject: '[master PATCH nbdkit 0/17] many', diff: false }];
    for (let n = 1; n <= 17; n++) parts.push({ id: `p${n}@x`, subject: `[master PATCH nbdkit ${n}/17] change ${n}`, inReplyTo: 'c0@x' });
    const { result } = await harvestMbox('\n\n\n' + mbox(parts));
    expect(result.counts).toMatchObject({ seen: 18, cover: 1, patch: 17 });
    expect(result.series).toHaveLength(1);
    expect(result.series[0]).toMatchObject({ status: 'ready', total: 17 });
    expect(result.series[0]!.patches).toHaveLength(17);
  });

  test('text before the first From line is not a message, and harvest.json says how much was skipped', async () => {
    const preamble = 'Archive of the list, exported by hand.\n\n';
    const { result } = await harvestMbox(preamble + mbox([{ id: 'one@x', subject: '[master PATCH nbdkit] one' }]));
    expect(result.counts.seen).toBe(1);
    expect(result.sources[0]).toMatchObject({ name: 'list', seen: 1, skippedBytes: preamble.length });
  });

  const quoting: Mail = {
    id: 'quote@x',
    subject: '[master PATCH nbdkit] quote an mbox',
    body: 'The archive shows this line:\n\n>From the start of a line\n\nSigned-off-by: Ann Author <ann@example.org>\n',
  };

  test('mboxo by default: a commit message quoting a >From line is what git am makes of the mbox', async () => {
    const text = mbox([quoting, { id: 'next@x', subject: '[master PATCH nbdkit] next' }]);
    const { result, state } = await harvestMbox(text);
    const patch = readFileSync(join(state, seriesOf(result, 'quote@x').patches[0]!.file), 'utf8');
    expect(patch).toContain('\n>From the start of a line\n');
    // git am of the whole mbox, and of the patch file harvest wrote: the same message
    const viaMbox = scratchRepo();
    writeFileSync(join(viaMbox.dir, '..', 'list.mbox'), text);
    viaMbox.git('am', '-q', join(viaMbox.dir, '..', 'list.mbox'));
    const viaPatch = scratchRepo();
    viaPatch.git('am', '-q', join(state, seriesOf(result, 'quote@x').patches[0]!.file));
    expect(viaPatch.git('log', '-1', '--format=%B')).toBe(viaMbox.git('log', '-1', '--skip=1', '--format=%B'));
  });

  test('format: mboxrd takes one > off, as git am --patch-format=mboxrd does', async () => {
    const text = mbox([quoting]);
    const { result, state } = await harvestMbox(text, { format: 'mboxrd' });
    const file = join(state, seriesOf(result, 'quote@x').patches[0]!.file);
    expect(readFileSync(file, 'utf8')).toContain('\nFrom the start of a line\n');
    const viaMbox = scratchRepo();
    writeFileSync(join(viaMbox.dir, '..', 'rd.mbox'), text);
    viaMbox.git('am', '-q', '--patch-format=mboxrd', join(viaMbox.dir, '..', 'rd.mbox'));
    const viaPatch = scratchRepo();
    viaPatch.git('am', '-q', file);
    expect(viaPatch.git('log', '-1', '--format=%B')).toBe(viaMbox.git('log', '-1', '--format=%B'));
  });
});

describe('3: a charset git cannot convert', () => {
  test('a patch in charset "none" is quarantined saying so; chatter in it is still chatter', async () => {
    const { result } = await harvestMbox(
      mbox([
        { id: 'none@x', subject: '[master PATCH nbdkit] fix', contentType: 'text/plain; charset="none"' },
        { id: 'codec@x', subject: '[master PATCH nbdkit] fix again', contentType: 'text/plain; charset=x-no-such-codec' },
        { id: 'talk@x', subject: 'a question', diff: false, contentType: 'text/plain; charset="none"' },
      ]),
    );
    expect(byId(result, 'none@x')).toMatchObject({ bucket: 'quarantined', reason: expect.stringContaining('text in charset "none", which git cannot convert to UTF-8') });
    expect(byId(result, 'codec@x')).toMatchObject({ bucket: 'quarantined', reason: expect.stringContaining('"x-no-such-codec"') });
    expect(byId(result, 'talk@x').bucket).toBe('other');
  });
});

describe('4: a series sent again without a version label', () => {
  const send = (tag: string, minute: number, threaded: boolean): Mail[] => [
    ...(threaded ? [{ id: `${tag}0@x`, subject: '[master PATCH nbdkit 0/2] the series', diff: false as const, date: `Wed, 1 Feb 2023 10:${minute}:00 +0000` }] : []),
    { id: `${tag}1@x`, subject: '[master PATCH nbdkit 1/2] first', date: `Wed, 1 Feb 2023 10:${minute}:01 +0000`, ...(threaded ? { inReplyTo: `${tag}0@x` } : {}), diff: newFile('first') },
    { id: `${tag}2@x`, subject: '[master PATCH nbdkit 2/2] second', date: `Wed, 1 Feb 2023 10:${minute}:02 +0000`, ...(threaded ? { inReplyTo: `${tag}0@x` } : {}), diff: newFile('second') },
  ];

  test('threaded sends: the later supersedes the earlier, whose mails say so', async () => {
    const { result } = await harvestMbox(mbox([...send('a', 10, true), ...send('b', 40, true)]));
    const later = seriesOf(result, 'b0@x');
    expect(later.status).toBe('ready');
    expect(seriesOf(result, 'a0@x')).toMatchObject({ status: 'superseded', supersededBy: later.id });
    for (const id of ['a0@x', 'a1@x', 'a2@x']) expect(byId(result, id)).toMatchObject({ reason: `series ${seriesOf(result, 'a0@x').id} superseded by ${later.id}`, seriesId: seriesOf(result, 'a0@x').id });
  });

  test('unthreaded sends: the earlier mails are duplicates with a reason, never a patch without a series', async () => {
    const { result } = await harvestMbox(mbox([...send('a', 10, false), ...send('b', 40, false)]));
    expect(result.series).toHaveLength(1);
    const s = result.series[0]!;
    expect(s.patches.map((p) => p.messageId)).toEqual(['b1@x', 'b2@x']);
    expect(byId(result, 'a1@x')).toEqual(expect.objectContaining({ bucket: 'duplicate', reason: `part 1 of series ${s.id} was sent again as b1@x: the later send is used` }));
    expect(byId(result, 'a2@x').bucket).toBe('duplicate');
    expect(result.messages.filter((m) => m.bucket === 'patch' && m.seriesId === undefined)).toEqual([]);
    expect(result.counts).toMatchObject({ patch: 2, duplicate: 2 });
  });
});

describe('5, 6: covers without threading, parts past their total', () => {
  test('a cover the patches do not answer is joined with them', async () => {
    const { result } = await harvestMbox(
      mbox([
        { id: 'cv0@x', subject: '[master PATCH nbdkit 0/2] the series', diff: false, date: 'Wed, 1 Feb 2023 10:00:00 +0000' },
        { id: 'cv1@x', subject: '[master PATCH nbdkit 1/2] first', date: 'Wed, 1 Feb 2023 10:00:01 +0000' },
        { id: 'cv2@x', subject: '[master PATCH nbdkit 2/2] second', date: 'Wed, 1 Feb 2023 10:00:02 +0000' },
      ]),
    );
    expect(result.series).toHaveLength(1);
    expect(result.series[0]).toMatchObject({ status: 'ready', coverMessageId: 'cv0@x', subject: 'the series' });
    expect(byId(result, 'cv0@x').seriesId).toBe(result.series[0]!.id);
  });

  test('[PATCH 3/2] stays in its series after 2/2, and harvest.json and series.json say so', async () => {
    const { result, state } = await harvestMbox(
      mbox([
        { id: 'm0@x', subject: '[master PATCH nbdkit 0/2] two', diff: false },
        { id: 'm1@x', subject: '[master PATCH nbdkit 1/2] one', inReplyTo: 'm0@x' },
        { id: 'm2@x', subject: '[master PATCH nbdkit 2/2] two', inReplyTo: 'm0@x' },
        { id: 'm3@x', subject: '[master PATCH nbdkit 3/2] one more fix', inReplyTo: 'm0@x' },
      ]),
    );
    const s = seriesOf(result, 'm0@x');
    expect(s).toMatchObject({ status: 'ready', total: 2, beyondTotal: [3] });
    expect(s.patches.map((p) => [p.number, p.messageId])).toEqual([[1, 'm1@x'], [2, 'm2@x'], [3, 'm3@x']]);
    expect(byId(result, 'm3@x')).toMatchObject({ bucket: 'patch', number: 3, total: 2, reason: 'numbered 3/2, past its total: kept in its series after part 2, in number order' });
    expect(JSON.parse(readFileSync(join(state, s.archiveDir!, 'series.json'), 'utf8'))).toMatchObject({ beyondTotal: [3] });
    expect(s.patches[2]!.file).toMatch(/\/0003-one-more-fix\.patch$/);
  });
});

describe('7: a default route for a list that tags neither branch nor repo', () => {
  test('untagged patch mail goes where the source says; a tag naming branch and repo wins', async () => {
    const { result } = await harvestMbox(
      mbox([
        { id: 'r1@x', subject: '[PATCH 1/2] one' },
        { id: 'r2@x', subject: '[PATCH 2/2] two', inReplyTo: 'r1@x' },
        { id: 'tagged@x', subject: '[master PATCH nbdkit] tagged' },
        { id: 'repo-only@x', subject: '[PATCH nbdkit] repo word only' },
      ]),
      { route: { repo: 'nbdkit', branch: 'stable-1.32' } },
    );
    expect(seriesOf(result, 'r1@x')).toMatchObject({ repo: 'nbdkit', branch: 'stable-1.32', status: 'ready' });
    expect(byId(result, 'tagged@x').route).toEqual({ repo: 'nbdkit', branch: 'master' });
    expect(byId(result, 'repo-only@x').route).toEqual({ repo: 'nbdkit', branch: 'stable-1.32' });
  });

  test('without a route such mail stays unroutable', async () => {
    const { result } = await harvestMbox(mbox([{ id: 'r1@x', subject: '[PATCH] one' }]));
    expect(byId(result, 'r1@x')).toMatchObject({ bucket: 'unroutable', reason: expect.stringContaining('names no branch and no repo') });
  });

  test('a route naming a repo or branch that is not configured is refused when the config is loaded', () => {
    const dir = tempDir('route');
    const refusal = (route: unknown): string => {
      const sub = join(dir, String(Math.random()).slice(2));
      mkdirSync(sub);
      try {
        loadConfig(writeConfig(sub, [{ type: 'mbox', name: 'list', path: 'x.mbox', route }]));
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('config was accepted');
    };
    expect(refusal({ repo: 'qemu', branch: 'master' })).toContain('sources.0.route.repo: "qemu" is not a configured repo (known: nbdkit)');
    expect(refusal({ repo: 'nbdkit', branch: 'stable-9' })).toContain('sources.0.route.branch: "stable-9" is not a configured branch of repo nbdkit (known: master, stable-1.32)');
    expect(refusal({ repo: 'nbdkit' })).toMatch(/route/);
  });
});

describe('8: dates git cannot read', () => {
  test('year 99999 and year 0001: filed under the day of the harvest, with a warning; git am applies the patch', async () => {
    const { result, state } = await harvestMbox(
      mbox([
        { id: 'y99999@x', subject: '[master PATCH nbdkit] far future', date: 'Mon, 1 Jan 99999 00:00:00 +0000' },
        { id: 'y0001@x', subject: '[master PATCH nbdkit] year one', date: 'Mon, 1 Jan 0001 00:00:00 +0000' },
        { id: 'y99@x', subject: '[master PATCH nbdkit] two digits', date: 'Fri, 1 Jan 99 10:00:00 +0000' },
      ]),
    );
    const today = result.startedAt.slice(0, 10);
    for (const id of ['y99999@x', 'y0001@x']) {
      const s = seriesOf(result, id);
      expect(s.archiveDir).toMatch(new RegExp(`^archive/${today}/nbdkit/master/${today}-`));
      expect(byId(result, id).reason).toMatch(/^Date ".*" is not a date git can read: filed under the day it was harvested, and the commit gets the time it is applied$/);
      expect(readFileSync(join(state, s.patches[0]!.file), 'utf8')).not.toMatch(/^Date:/m);
      expect(s.patches[0]!.date).toBeUndefined();
      const repo = scratchRepo();
      repo.git('am', '-q', join(state, s.patches[0]!.file));
    }
    // git's two-digit rule: 99 is 1999
    expect(seriesOf(result, 'y99@x').archiveDir).toMatch(/^archive\/1999-01-01\//);
    expect(byId(result, 'y99@x').reason).toBeUndefined();
  });
});

describe('9: a body too large to be a commit message', () => {
  const huge = 'A log pasted into the commit message.\n' + 'log line '.repeat(15).concat('\n').repeat(12_000);

  test('over harvest.maxBodyBytes (default 1 MiB) a patch is quarantined; under it the commit message is the text part', async () => {
    const mails = mbox([{ id: 'big@x', subject: '[master PATCH nbdkit] big', body: huge }, { id: 'small@x', subject: '[master PATCH nbdkit] small' }]);
    expect(huge.length).toBeGreaterThan(1024 * 1024);
    const { result } = await harvestMbox(mails);
    expect(byId(result, 'big@x')).toMatchObject({ bucket: 'quarantined', reason: expect.stringMatching(/the commit message would be \d+ bytes, over harvest.maxBodyBytes \(1048576\)$/) });
    expect(byId(result, 'small@x').bucket).toBe('patch');
    const raised = await harvestMbox(mails, {}, { harvest: { maxBodyBytes: 4 * 1024 * 1024 } });
    expect(byId(raised.result, 'big@x').bucket).toBe('patch');
    const patch = readFileSync(join(raised.state, seriesOf(raised.result, 'big@x').patches[0]!.file), 'utf8');
    const message = patch.slice(patch.indexOf('\n\n') + 2, patch.indexOf('\n---\n'));
    expect(message.length).toBeLessThanOrEqual(huge.length);
  });
});
