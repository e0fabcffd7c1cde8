/**
 * The harvest: read every source, put every message in one bucket, keep the seen-store, rebuild
 * the series it touches and write their archive directories. Order of writes (crash safety):
 * originals -> pending journal -> seen-store -> series directories -> cursors -> harvest.json.
 */
import { rmSync } from 'node:fs';
import { PatchlineError, asPatchlineError } from '../core/errors.js';
import { resultText, writeResultText } from '../core/results.js';
import { resolveFrom, type LoadedConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { createProgress } from '../core/progress.js';
import type { Config, SourceConfig } from '../core/config-types.js';
import { placeJob, writeSeriesDir, removeSeriesDir, seriesJson, patchEntry, COVER_EML } from './archive.js';
import { classifyMessage } from './classify.js';
import { routeOfSource } from './route.js';
import { needsFullParse, parsedFacts, subjectPatternOf, type HeaderFacts, type MessageFacts, type ParsedFacts } from './examine.js';
import { parseMessage } from './mail/extract.js';
import { ExaminePool, defaultParseWorkers } from './parse-pool.js';
import { renderPatchBytes } from './patch-file.js';
import { buildSeries, reportReplaced, type Series, type SeriesPatch } from './series.js';
import { StagedArchive, stageRoot } from './staging.js';
import { MaildirSource } from './sources/maildir.js';
import { MboxSource } from './sources/mbox.js';
import type { MailSource, SourceMessage } from './sources/source.js';
import { clearPending, readPending, writePending } from './state/pending.js';
import type { MessageRecord } from './state/records.js';
import { loadSeen, OriginalsPack, resetScratch, saveSeen } from './state/seen-store.js';
import { readIncomplete, writeIncomplete } from './state/incomplete.js';
import { BUCKETS, type Counts, type HarvestResult, type MessageResult, type SeriesResult, type SourceResult } from './types.js';

const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Messages handed to the parse workers and not yet decided: bounds memory when parsing lags the fetch. */
const MAX_IN_FLIGHT = 512;

export interface HarvestOutcome {
  result: HarvestResult;
  /** Write harvest.json into the run dir (validated and serialized already); returns its path. */
  write(runDir: string): string;
  /** Sources that could not be read (or failed midway). */
  failedSources: number;
  /** Call once harvest.json is on disk: clears the pending journal. */
  done(): void;
}

interface RunState {
  stateDir: string;
  records: Map<string, MessageRecord>;
  /** Keys first harvested in this run. */
  fresh: Set<string>;
  /** Parses each message (in worker threads) and stages archive files ahead of time. */
  pool: ExaminePool;
  staged: StagedArchive;
  messages: MessageResult[];
  maxBytes: number;
  config: Config;
  pack: OriginalsPack;
  runId: string;
  /** The run's start: harvestedAt of every record it adds. */
  startedAt: string;
}

/** harvest.json, and its text (validated and serialized while the parse worker places directories). */
interface PreparedResult {
  result: HarvestResult;
  text: string;
}

async function sourceFor(config: SourceConfig, loaded: LoadedConfig): Promise<MailSource> {
  switch (config.type) {
    case 'imap': {
      // imapflow takes a third of a second to load: only when a source needs it
      const { ImapSource } = await import('./sources/imap.js');
      return new ImapSource(config, loaded.stateDir, loaded.baseDir);
    }
    case 'mbox':
      return new MboxSource(config.name, resolveFrom(loaded.baseDir, config.path), loaded.stateDir, config.format);
    case 'maildir':
      return new MaildirSource(config.name, resolveFrom(loaded.baseDir, config.path), loaded.stateDir);
  }
}

function personLine(p: { name: string; email: string } | undefined): string | undefined {
  if (!p) return undefined;
  return p.name ? `${p.name} <${p.email}>` : p.email;
}

/** Does the thread this reply answers hold a patch or cover we know? */
function answersKnownPart(headers: HeaderFacts, records: Map<string, MessageRecord>): boolean {
  for (const id of [headers.inReplyTo, ...headers.references]) {
    if (id === undefined) continue;
    const r = records.get(id);
    if (r && (r.bucket === 'patch' || r.bucket === 'cover' || r.bucket === 'comment')) return true;
  }
  return false;
}

function duplicateReason(first: MessageRecord, where: string): string {
  if (first.where === where) return `already harvested from ${where} (read again: an earlier run stopped before moving the cursor)`;
  return `Message-ID already harvested from ${first.where} on ${first.harvestedAt.slice(0, 10)} as ${first.bucket}`;
}

/** The message as harvest.json reports it (assignments, not spreads: this runs for every message). */
function resultOf(r: MessageRecord, bucket = r.bucket, reason = r.reason): MessageResult {
  // the key order of harvest.json: id, bucket, reason, where it came from, what it is
  const result = { messageId: r.key, bucket } as MessageResult;
  if (reason) result.reason = reason;
  result.source = r.where;
  result.subject = r.subject;
  const from = personLine(r.from);
  if (from) result.from = from;
  if (r.date) result.date = r.date;
  if (r.route) result.route = r.route;
  if (bucket !== 'duplicate') {
    if (r.version !== undefined) result.version = r.version;
    if (r.number !== undefined) result.number = r.number;
    if (r.total !== undefined) result.total = r.total;
  }
  if (r.inReplyTo) result.inReplyTo = r.inReplyTo;
  if (r.trailers?.length) result.trailers = r.trailers;
  return result;
}

/** The thread root (first) and the nearest 19: what threading and superseding look at, bounded for hostile mail. */
function keptReferences(refs: string[]): string[] {
  return refs.length <= 20 ? refs : [refs[0]!, ...refs.slice(-19)];
}

/** What the headers say, before any decision. */
function baseRecord(key: string, headers: HeaderFacts, where: string, harvestedAt: string): MessageRecord {
  const record: MessageRecord = { key, bucket: 'other', where, harvestedAt, subject: headers.subject.length > 1000 ? headers.subject.slice(0, 1000) : headers.subject };
  if (headers.from) record.from = headers.from;
  if (headers.date) record.date = headers.date.toISOString();
  if (headers.inReplyTo) record.inReplyTo = headers.inReplyTo;
  if (headers.references.length) record.references = keptReferences(headers.references);
  return record;
}

function recordOf(raw: Buffer, base: MessageRecord, facts: MessageFacts, run: RunState, pattern: RegExp | undefined): MessageRecord {
  const key = base.key;
  if (raw.length > run.maxBytes) {
    return { ...base, bucket: 'quarantined', reason: `message is ${raw.length} bytes, over harvest.maxMessageBytes (${run.maxBytes})` };
  }
  let parsed: ParsedFacts | undefined;
  // the worker parsed a superset of these ahead of time; the parse here is only a safety net
  if (needsFullParse(facts.headers, facts.bodyMarkers, (h) => answersKnownPart(h, run.records))) parsed = facts.parsed ?? parsedFacts(parseMessage(raw, { subjectPattern: pattern }));
  const c = classifyMessage(facts.headers, parsed, { config: run.config, unusable: parsed?.unusable, defaultRoute: routeOfSource(run.config, base.where) });
  const record = base; // fresh from baseRecord: filled in place
  record.bucket = c.bucket;
  // reasons quote words from the mail: control bytes there must not break the one-line contract
  if (c.reason) record.reason = c.reason.replace(/[\x00-\x1f\x7f]+/g, ' ');
  if (c.tag && (c.bucket === 'patch' || c.bucket === 'cover')) {
    record.route = c.route;
    record.version = c.tag.version;
    record.number = c.tag.number ?? 1;
    record.total = c.tag.total ?? 1;
  }
  if (parsed && (c.bucket === 'patch' || c.bucket === 'cover')) {
    record.author = parsed.author;
    if (parsed.date) record.authorDate = parsed.date;
    record.commitSubject = parsed.subject;
    record.original = run.pack.add(raw);
    if (facts.staged) run.staged.keep(key, facts.staged);
  }
  if (parsed && c.bucket === 'comment' && parsed.reviewTrailers.length) record.trailers = parsed.reviewTrailers;
  return record;
}

/** One message from a source: a duplicate of a seen key, or a new record (its original stored when it is a part). */
function takeMessage(msg: SourceMessage, facts: MessageFacts, run: RunState, pattern: RegExp | undefined): MessageResult {
  if (facts.staged) run.staged.note(facts.staged);
  const base = baseRecord(facts.key, facts.headers, msg.where, run.startedAt);
  const first = run.records.get(base.key);
  if (first) return resultOf(base, 'duplicate', duplicateReason(first, msg.where));
  const record = recordOf(msg.raw, base, facts, run, pattern);
  run.records.set(record.key, record);
  run.fresh.add(record.key);
  return resultOf(record);
}

interface InFlight {
  msg: SourceMessage;
  facts?: MessageFacts;
  ready: Promise<unknown>;
}

/**
 * Read what a source has (its look said there is news); a failure midway keeps what was read.
 * Messages are parsed in the workers while the fetch goes on, and decided here in arrival order.
 */
async function readSource(source: MailSource, config: SourceConfig, run: RunState, tick: (label: string) => void): Promise<SourceResult> {
  const pattern = subjectPatternOf(config.subjectPattern);
  const queue: InFlight[] = [];
  let seen = 0;
  const takeHead = (): void => {
    const { msg, facts } = queue.shift()!;
    const result = takeMessage(msg, facts!, run, pattern);
    run.messages.push(result);
    seen += 1;
    tick(result.subject);
  };
  let error: unknown;
  try {
    for await (const msg of source.messages()) {
      const entry: InFlight = { msg, ready: Promise.resolve() };
      entry.ready = run.pool.examine(msg.raw, config.subjectPattern).then((facts) => (entry.facts = facts));
      queue.push(entry);
      while (queue[0]?.facts) takeHead();
      if (queue.length >= MAX_IN_FLIGHT) await queue[0]!.ready;
    }
  } catch (err) {
    error = err;
  }
  while (queue.length > 0) {
    await queue[0]!.ready;
    takeHead();
  }
  return { name: source.name, type: source.type, seen, ...source.describe(), ...(error === undefined ? {} : { error: asPatchlineError(error, 'EMAIL').toJSON() }) };
}

/** The cheap look at every source (IMAP STATUS, stat, listing): which have news, which failed. */
async function lookAtSources(sources: MailSource[]): Promise<Array<{ news: boolean; error?: SourceResult['error'] }>> {
  const looks = [];
  for (const source of sources) {
    try {
      looks.push({ news: await source.hasNews() });
    } catch (err) {
      looks.push({ news: false, error: asPatchlineError(err, 'EMAIL').toJSON() });
    }
  }
  return looks;
}

/**
 * Render one patch file the parse worker did not stage as it must be: one with review trailers
 * (added to the staged file), or one from an earlier run (from its original).
 */
function patchRenderer(run: RunState): (p: SeriesPatch, s: Series) => Buffer {
  return (p, s) => {
    const staged = run.staged.patchWithTrailers(p.record.key, p.trailers);
    if (staged) return staged;
    const extraction = parseMessage(run.pack.read(p.record.original!)).extraction;
    return renderPatchBytes(extraction, { messageId: p.record.key, number: p.number, total: s.total, extraTrailers: p.trailers });
  };
}

/** Series whose directory must be (re)written, and directories that must go, since the last run. */
function changedSeries(before: Map<string, Series>, after: Map<string, Series>): { series: string[]; remove: string[] } {
  const series: string[] = [];
  const remove: string[] = [];
  for (const [key, s] of after) {
    const old = before.get(key);
    if (!old || old.dir !== s.dir || seriesJson(old) !== seriesJson(s)) series.push(key);
  }
  for (const [key, old] of before) if (after.get(key)?.dir !== old.dir) remove.push(old.dir);
  return { series, remove };
}

/**
 * Series in arrival order of their first message (the seen-store keeps arrival order), so that
 * apply, which orders a branch's series by firstArrival, breaks ties within one run correctly.
 */
function byArrival(series: Series[], records: Map<string, MessageRecord>): Series[] {
  const position = new Map([...records.keys()].map((key, i) => [key, i]));
  const first = (s: Series): number => Math.min(...s.members.map((k) => position.get(k) ?? Infinity));
  return series.map((s) => ({ s, at: first(s) })).sort((a, b) => a.at - b.at || (a.s.id < b.s.id ? -1 : 1)).map((x) => x.s);
}

function seriesResult(s: Series, records: Map<string, MessageRecord>): SeriesResult {
  const firstArrival = s.members.map((k) => records.get(k)?.harvestedAt ?? '').filter(Boolean).sort()[0];
  return {
    id: s.id,
    repo: s.repo,
    branch: s.branch,
    version: s.version,
    total: s.total,
    status: s.status,
    subject: s.subject,
    ...(s.submitter ? { submitter: s.submitter } : {}),
    ...(s.cover ? { coverMessageId: s.cover.key } : {}),
    archiveDir: s.dir,
    ...(s.missing.length ? { missing: s.missing } : {}),
    ...(s.beyondTotal.length ? { beyondTotal: s.beyondTotal } : {}),
    ...(s.supersededBy ? { supersededBy: s.supersededBy } : {}),
    ...(firstArrival ? { firstArrival } : {}),
    patches: s.patches.map((p) => patchEntry(p, `${s.dir}/`, p.record.original !== undefined)),
  };
}

/** Where each part of this run was archived, and its series id. */
function annotateParts(messages: MessageResult[], series: Map<string, Series>): void {
  const where = new Map<string, { id: string; eml: string }>();
  for (const s of series.values()) {
    if (s.cover) where.set(s.cover.key, { id: s.id, eml: `${s.dir}/${COVER_EML}` });
    for (const p of s.patches) where.set(p.record.key, { id: s.id, eml: `${s.dir}/${p.name}.eml` });
  }
  for (const m of messages) {
    const at = m.bucket === 'patch' || m.bucket === 'cover' ? where.get(m.messageId) : undefined;
    if (at) {
      m.seriesId = at.id;
      m.archived = at.eml;
    }
  }
}

function countBuckets(messages: MessageResult[]): Counts {
  const counts = Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Counts;
  counts.seen = messages.length;
  for (const m of messages) counts[m.bucket] += 1;
  const sum = BUCKETS.reduce((n, b) => n + counts[b], 0);
  if (sum !== counts.seen) throw new PatchlineError('EINTERNAL', `harvest counts do not add up: ${sum} in buckets, ${counts.seen} seen`);
  return counts;
}

/** harvest.json: finishedAt is when the outcome was decided (a last few directories may still be moving into place). */
function harvestResult(runId: string, startedAt: string, sources: SourceResult[], messages: MessageResult[], series: SeriesResult[]): HarvestResult {
  return { runId, startedAt, finishedAt: new Date().toISOString(), sources, messages, series, counts: countBuckets(messages) };
}

function prepared(result: HarvestResult): PreparedResult {
  return { result, text: resultText('harvest', result) };
}

export async function harvest(loaded: LoadedConfig, opts: { runId: string; log: Logger }): Promise<HarvestOutcome> {
  const startedAt = new Date().toISOString();
  const { stateDir, config } = loaded;
  resetScratch(stateDir);
  const sources = await Promise.all(config.sources.map((c) => sourceFor(c, loaded)));
  try {
    const looks = await lookAtSources(sources);
    for (const [i, look] of looks.entries()) if (look.error) opts.log.warn(`source ${sources[i]!.name}: ${look.error.code} ${look.error.message}`);
    const quiet = looks.every((l) => !l.news) && readPending(stateDir).series.length === 0 && readPending(stateDir).remove.length === 0;
    const cached = quiet ? readIncomplete(stateDir) : undefined;
    const sourceResults = cached
      ? sources.map((source, i) => ({ name: source.name, type: source.type, seen: 0, ...source.describe(), ...(looks[i]!.error ? { error: looks[i]!.error } : {}) }))
      : undefined;
    const { result, text } = cached && sourceResults
      ? prepared(harvestResult(opts.runId, startedAt, sourceResults, [], cached))
      : await harvestNews(loaded, sources, looks, opts.log, opts.runId, startedAt);
    return {
      result,
      write: (runDir) => writeResultText(runDir, 'harvest', text),
      failedSources: result.sources.filter((s) => s.error).length,
      done: () => clearPending(stateDir),
    };
  } finally {
    for (const source of sources) await source.close().catch(() => undefined);
  }
}

/** The full path: load the seen-store, read the news, rebuild and write the series it changes. */
async function harvestNews(loaded: LoadedConfig, sources: MailSource[], looks: Array<{ news: boolean; error?: SourceResult['error'] }>, log: Logger, runId: string, startedAt: string): Promise<PreparedResult> {
  const { stateDir, config } = loaded;
  const maxBytes = config.harvest?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const staged = new StagedArchive(stageRoot(stateDir));
  const run: RunState = {
    stateDir,
    records: loadSeen(stateDir),
    fresh: new Set(),
    pool: new ExaminePool({ maxBytes, config, stageRoot: staged.root }, config.harvest?.parseWorkers ?? defaultParseWorkers()),
    staged,
    messages: [],
    maxBytes,
    config,
    pack: new OriginalsPack(stateDir),
    runId,
    startedAt,
  };
  // the threads load while the mailbox opens (a SELECT of a large mailbox takes a while)
  if (looks.some((l) => l.news)) run.pool.start();
  try {
    return await harvestInto(run, loaded, sources, looks, log);
  } finally {
    await run.pool.close();
  }
}

async function harvestInto(run: RunState, loaded: LoadedConfig, sources: MailSource[], looks: Array<{ news: boolean; error?: SourceResult['error'] }>, log: Logger): Promise<PreparedResult> {
  const { stateDir, config } = loaded;
  const before = buildSeries(run.records);
  const progress = createProgress('harvest', 0);
  const sourceResults: SourceResult[] = [];
  for (const [i, source] of sources.entries()) {
    const look = looks[i]!;
    const result = look.error
      ? { name: source.name, type: source.type, seen: 0, ...source.describe(), error: look.error }
      : look.news
        ? await readSource(source, config.sources[i]!, run, (label) => progress.tick(label))
        : { name: source.name, type: source.type, seen: 0, ...source.describe() };
    if (result.error && !look.error) log.warn(`source ${source.name}: ${result.error.code} ${result.error.message}`);
    sourceResults.push(result);
  }
  progress.stop();
  if (run.pool.problems.length) log.warn(`${run.pool.problems[0]}${run.pool.problems.length > 1 ? ` (and ${run.pool.problems.length - 1} more)` : ''}; those messages were parsed on the main thread or written without staging`);

  const after = run.fresh.size ? buildSeries(run.records) : before;
  const left = readPending(stateDir);
  const changed = changedSeries(before, after);
  const pending = { series: [...new Set([...left.series, ...changed.series])].sort(), remove: [...new Set([...left.remove, ...changed.remove])].sort() };
  if (run.fresh.size) {
    run.pack.close();
    writePending(stateDir, pending);
    saveSeen(stateDir, run.records);
  }
  const targets = new Set(pending.series.map((k) => after.get(k)?.dir));
  for (const dir of pending.remove) if (!targets.has(dir)) removeSeriesDir(stateDir, dir);
  const render = patchRenderer(run);
  // what was staged whole goes to the parse worker as it is found; the rest is written here
  const placing = run.pool.placing(stateDir, pending.series.length);
  for (const key of pending.series) {
    const s = after.get(key);
    if (!s) continue;
    const job = placeJob(s, run.staged);
    if (job) placing.add(job);
    else writeSeriesDir(stateDir, s, (p) => render(p, s), (original) => run.pack.read(original), run.staged);
  }
  // while the worker places: what the run reports, and harvest.json checked and serialized (nothing here touches the disk)
  annotateParts(run.messages, after);
  reportReplaced(run.messages, after);
  const reported = new Set(pending.series);
  for (const s of after.values()) if (s.status === 'incomplete') reported.add(s.key);
  const series = byArrival([...reported].map((k) => after.get(k)).filter((s): s is Series => s !== undefined), run.records);
  const results = series.map((s) => seriesResult(s, run.records));
  const harvestJson = prepared(harvestResult(run.runId, run.startedAt, sourceResults, run.messages, results));
  await placing.finish(); // this thread takes what the worker has not, from the end
  rmSync(run.staged.root, { recursive: true, force: true }); // what was staged and not used: duplicates, resent slots
  for (const [i, source] of sources.entries()) if (sourceResults[i]!.seen > 0) source.commit();
  writeIncomplete(stateDir, results.filter((s) => s.status === 'incomplete'));
  return harvestJson;
}
