/**
 * The parse workers and staging change how fast the archive is written, never what is in it:
 * every case here is compared with a harvest that parses on the main thread and stages nothing.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../src/core/config-types.js';
import { placeSeriesDir, type PlaceJob } from '../../src/harvest/archive.js';
import { examineMessage } from '../../src/harvest/examine.js';
import { parseMessage } from '../../src/harvest/mail/extract.js';
import { CLAIM, ExaminePool, finishAbandoned } from '../../src/harvest/parse-pool.js';
import { renderPatchBytes, renderPatchParts } from '../../src/harvest/patch-file.js';
import { stagedWithTrailers } from '../../src/harvest/staging.js';
import { CORPUS_FILES, archiveSnapshot, corpusMessage, outcomeOf, runHarvest, tempDir, writeConfig, writeMaildir } from './support.js';

const MAX = 64 * 1024 * 1024;
const CONFIG = { sources: [], repos: { nbdkit: { url: 'https://gitlab.com/nbdkit/nbdkit.git', branches: ['master', 'stable-1.32'] } } } as unknown as Config;
const DIFF = 'diff --git a/README b/README\n--- a/README\n+++ b/README\n@@ -1 +1 @@\n-old\n+new\n';

function mail(id: string, subject: string, date: string, opts: { inReplyTo?: string; body?: string } = {}): Buffer {
  return Buffer.from(
    [
      'From: Ann Author <ann@example.org>',
      `Subject: ${subject}`,
      `Date: ${date}`,
      `Message-ID: <${id}>`,
      ...(opts.inReplyTo ? [`In-Reply-To: <${opts.inReplyTo}>`, `References: <${opts.inReplyTo}>`] : []),
      '',
      opts.body ?? `A change.\n\nSigned-off-by: Ann Author <ann@example.org>\n---\n${DIFF}`,
    ].join('\n'),
  );
}

/** Harvest the same Maildir twice: parsing on the main thread, and with `workers` parse threads. */
async function bothWays(messages: Buffer[], workers: number): Promise<{ inline: string; threaded: string }> {
  const out: Record<string, string> = {};
  for (const [name, parseWorkers] of [['inline', 0], ['threaded', workers]] as const) {
    const dir = tempDir(`staging-${name}`);
    const config = writeConfig(dir, [{ type: 'maildir', name: 'list', path: writeMaildir(join(dir, 'Maildir'), messages) }], { harvest: { parseWorkers } });
    const { code, result } = await runHarvest(config, join(dir, 'state'));
    expect(code).toBe(0);
    expect(existsSync(join(dir, 'state', 'harvest', 'tmp', 'stage'))).toBe(false);
    out[name] = join(dir, 'state');
    out[`${name}Outcome`] = JSON.stringify(outcomeOf([result]));
  }
  expect(out.threadedOutcome).toBe(out.inlineOutcome);
  expect(archiveSnapshot(out.threaded!)).toEqual(archiveSnapshot(out.inline!));
  return { inline: out.inline!, threaded: out.threaded! };
}

test('a parse worker gives the facts the main thread would', async () => {
  const pool = new ExaminePool({ maxBytes: MAX, config: CONFIG }, 1);
  try {
    for (const file of CORPUS_FILES) {
      const raw = corpusMessage(file);
      expect(await pool.examine(raw)).toEqual(examineMessage(raw, { maxBytes: MAX }).facts);
    }
    expect(pool.size).toBe(1); // the worker ran (from dist/ under jest), nothing fell back
    expect(pool.problems).toEqual([]);
  } finally {
    await pool.close();
  }
});

test('a parse worker that dies: what it still had is examined on the main thread, with a warning', async () => {
  const pool = new ExaminePool({ maxBytes: MAX, config: CONFIG }, 1);
  try {
    const raws = CORPUS_FILES.map(corpusMessage);
    const first = await pool.examine(raws[0]!); // the worker runs
    const pending = raws.slice(1).map((raw) => pool.examine(raw)); // still queued or in flight when it dies
    await (pool as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } }> }).slots[0]!.worker.terminate();
    const facts = [first, ...(await Promise.all(pending))];
    expect(facts).toEqual(raws.map((raw) => examineMessage(raw, { maxBytes: MAX }).facts));
    expect(pool.size).toBe(0);
    expect(pool.problems).toEqual([expect.stringMatching(/^parse worker exited/)]);
  } finally {
    await pool.close();
  }
});

test('the corpus: the same archive and harvest.json with two parse threads as with none', async () => {
  await bothWays(CORPUS_FILES.map(corpusMessage), 2);
});

test('a resent part, a duplicate and a chained thread: assembled from what was staged, as without staging', async () => {
  const second = mail('a2@example.org', '[master PATCH nbdkit 2/2] second change', 'Tue, 03 Mar 2026 10:02:00 +0000', { inReplyTo: 'a0@example.org' });
  const first = mail('a1@example.org', '[master PATCH nbdkit 1/2] first change', 'Tue, 03 Mar 2026 10:01:00 +0000', { inReplyTo: 'a0@example.org' });
  const messages = [
    mail('a0@example.org', '[master PATCH nbdkit 0/2] series A', 'Tue, 03 Mar 2026 10:00:00 +0000', { body: 'Two changes.\n' }),
    first,
    second,
    // the same Message-ID again, other bytes (a list footer): a duplicate, the first copy stays
    Buffer.concat([first, Buffer.from('-- \nlist footer\n')]),
    // 2/2 resent under a new Message-ID but with an older Date: the slot stays with the later Date
    mail('a2-resend@example.org', '[master PATCH nbdkit 2/2] second change', 'Tue, 03 Mar 2026 10:01:30 +0000', { inReplyTo: 'a0@example.org' }),
    // chained: 2/2 answers 1/2, so only the seen-store knows both are one series
    mail('b1@example.org', '[stable-1.32 PATCH nbdkit 1/2] backport one', 'Wed, 04 Mar 2026 09:00:00 +0000'),
    mail('b2@example.org', '[stable-1.32 PATCH nbdkit 2/2] backport two', 'Wed, 04 Mar 2026 09:01:00 +0000', { inReplyTo: 'b1@example.org' }),
    mail('r1@example.org', 'Re: [master PATCH nbdkit 0/2] series A', 'Wed, 04 Mar 2026 11:00:00 +0000', { inReplyTo: 'a0@example.org', body: 'Reviewed-by: Rita Reviewer <rita@example.org>\n' }),
  ];
  const { threaded } = await bothWays(messages, 1);
  const snapshot = archiveSnapshot(threaded);
  const emlOf = (name: string) => Object.keys(snapshot).find((f) => f.includes('/master/') && f.endsWith(name));
  expect(readFileSync(join(threaded, 'archive', emlOf('0001-first-change.eml')!))).toEqual(first);
  expect(readFileSync(join(threaded, 'archive', emlOf('0002-second-change.eml')!))).toEqual(second);
  const patch = readFileSync(join(threaded, 'archive', emlOf('0002-second-change.patch')!), 'utf8');
  expect(patch).toContain('Reviewed-by: Rita Reviewer <rita@example.org>'); // staged without it, rewritten with it
  expect(Object.keys(snapshot).filter((f) => f.includes('/stable-1.32/') && f.endsWith('.patch'))).toHaveLength(2);
});

const PATCH = parseMessage(corpusMessage('016-s2-1.eml'));

/** A staged directory holding one patch (and its .eml), and the job that places it as `archive/<name>`. */
function stagedSeries(root: string, name: string, trailers: string[] = []): { job: PlaceJob; want: Buffer } {
  const extraction = PATCH.extraction;
  const opts = { messageId: `${name}@example.org`, number: 1, total: 1 };
  const patch = renderPatchParts(extraction, opts);
  const build = join(root, 'harvest', 'tmp', 'stage', name);
  mkdirSync(build, { recursive: true });
  writeFileSync(join(build, '0001-x.patch'), patch.bytes);
  writeFileSync(join(build, '0001-x.eml'), 'the original\n');
  writeFileSync(join(build, 'series.json'), '');
  const edits = trailers.length ? [{ file: join(build, '0001-x.patch'), body: patch.body, length: patch.bytes.length, trailers }] : [];
  return { job: { build, dir: `archive/2026-03-03/nbdkit/master/${name}`, seriesJson: `{"id":"${name}"}\n`, trailers: edits }, want: renderPatchBytes(extraction, { ...opts, extraTrailers: trailers }) };
}

test('series directories are placed by both threads, each exactly once', async () => {
  const state = tempDir('place-shared');
  const pool = new ExaminePool({ maxBytes: MAX, config: CONFIG }, 1);
  try {
    await pool.examine(corpusMessage(CORPUS_FILES[0]!)); // the worker is up
    const series = Array.from({ length: 3000 }, (_, i) => stagedSeries(state, `s${i}`, i % 4 === 0 ? ['Reviewed-by: Rita Reviewer <rita@example.org>'] : []));
    const placing = pool.placing(state, series.length);
    for (const s of series) placing.add(s.job);
    // 3,000 jobs keep the main thread busy long enough (~0.2 s) for the worker to join in
    const byWorker = await placing.finish();
    expect(byWorker).toBeGreaterThan(0); // the worker took a share
    expect(byWorker).toBeLessThan(series.length); // and so did the main thread
    expect(readdirSync(join(state, 'harvest', 'tmp', 'stage'))).toEqual([]);
    // (Buffer toEqual costs ~10 ms each: compared here, the differences collected)
    const wrong = series.filter(({ job, want }) => !readFileSync(join(state, job.dir, '0001-x.patch')).equals(want) || readFileSync(join(state, job.dir, 'series.json'), 'utf8') !== job.seriesJson);
    expect(wrong.map((s) => s.job.dir)).toEqual([]);
    expect(pool.problems).toEqual([]);
  } finally {
    await pool.close();
  }
});

test('the worker places jobs as they are handed over, before the main thread finishes', async () => {
  const state = tempDir('place-streamed');
  const pool = new ExaminePool({ maxBytes: MAX, config: CONFIG }, 1);
  try {
    await pool.examine(corpusMessage(CORPUS_FILES[0]!)); // the worker is up
    const series = Array.from({ length: 200 }, (_, i) => stagedSeries(state, `t${i}`));
    const placing = pool.placing(state, series.length + 10); // fewer jobs than announced is fine
    for (const s of series) placing.add(s.job);
    // the first chunk reaches the worker before finish() is called: it is placed without the main thread
    const firstDir = join(state, series[0]!.job.dir);
    for (let waited = 0; !existsSync(firstDir) && waited < 20_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(firstDir)).toBe(true);
    expect(existsSync(series[0]!.job.build)).toBe(false);
    expect(await placing.finish()).toBeGreaterThan(0);
    expect(series.filter(({ job }) => readFileSync(join(state, job.dir, 'series.json'), 'utf8') !== job.seriesJson).map((s) => s.job.dir)).toEqual([]);
    expect(() => pool.placing(state, 0).add(series[0]!.job)).toThrow(/more series directories to place than the 0 announced/);
  } finally {
    await pool.close();
  }
});

test('jobs a dead worker claimed: the finished ones stay, the rest is done again, trailers added once', () => {
  const state = tempDir('place-abandoned');
  const trailers = ['Reviewed-by: Rita Reviewer <rita@example.org>', 'Acked-by: Al Acker <al@example.org>'];
  const done = stagedSeries(state, 'done', trailers);
  const renamed = stagedSeries(state, 'renamed', trailers);
  const halfway = stagedSeries(state, 'halfway', trailers);
  const untouched = stagedSeries(state, 'untouched');
  placeSeriesDir(state, done.job);
  placeSeriesDir(state, renamed.job); // finished, but the worker died before it could say so
  // the worker added the trailers, then died before series.json and the rename
  const edit = halfway.job.trailers[0]!;
  writeFileSync(edit.file, stagedWithTrailers(readFileSync(edit.file), edit, trailers));
  const claims = new Int32Array([CLAIM.workerDone, CLAIM.worker, CLAIM.worker, CLAIM.worker]);
  expect(finishAbandoned(state, [done.job, renamed.job, halfway.job, untouched.job], claims)).toBe(1);
  for (const { job, want } of [done, renamed, halfway, untouched]) {
    expect(readFileSync(join(state, job.dir, '0001-x.patch'))).toEqual(want);
    expect(readFileSync(join(state, job.dir, 'series.json'), 'utf8')).toBe(job.seriesJson);
    expect(existsSync(job.build)).toBe(false);
  }
  expect(readFileSync(join(state, halfway.job.dir, '0001-x.patch'), 'utf8').match(/Reviewed-by: Rita/g)).toHaveLength(1);
});
