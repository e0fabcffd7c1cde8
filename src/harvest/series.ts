/**
 * Series from the seen-store: a pure function of the set of records, so any arrival order and
 * any split into runs gives the same series. Decisions: docs/decisions/harvest-series.md.
 */
import { createHash } from 'node:crypto';
import type { PersonResult, SeriesStatus } from './types.js';
import type { MessageRecord } from './state/records.js';

export interface SeriesPatch {
  number: number;
  record: MessageRecord;
  /** File name in the archive without extension: `0003-curl-Complete-implementation-of-the-curl-handle-pool`. */
  name: string;
  /** Review trailers collected from replies, in a stable order. */
  trailers: string[];
}

export interface Series {
  /** repo, branch, version, total and the thread root: what groups the messages. */
  key: string;
  id: string;
  /** YYYY-MM-DD: the UTC day of the earliest Date among the cover and the patches. */
  day: string;
  /** archive/<day>/<repo>/<branch>/<id>, relative to the state dir. */
  dir: string;
  repo: string;
  branch: string;
  version: number;
  total: number;
  status: SeriesStatus;
  missing: number[];
  supersededBy?: string;
  subject: string;
  submitter?: PersonResult;
  cover?: MessageRecord;
  patches: SeriesPatch[];
  /** Keys of the messages that shape it: cover, patches, and replies whose trailers it carries. */
  members: string[];
}

const REVIEW_TRAILER = /^(reviewed|acked|tested)-by:\s*\S/i;
const MAX_THREAD_HOPS = 50;

export function isReviewTrailer(line: string): boolean {
  return REVIEW_TRAILER.test(line);
}

function tupleOf(r: MessageRecord): string {
  return `${r.route!.repo}\0${r.route!.branch}\0${r.version ?? 1}\0${r.total ?? 1}`;
}

function isPart(r: MessageRecord): boolean {
  return (r.bucket === 'patch' || r.bucket === 'cover') && r.route !== undefined;
}

/**
 * The thread root a part hangs on. git send-email makes every patch In-Reply-To the cover (or
 * the first patch when there is none), so the cover's Message-ID keys the series before it arrives.
 */
function rootOf(r: MessageRecord, records: Map<string, MessageRecord>): string {
  if (r.bucket === 'cover' || (r.total ?? 1) === 1) return r.key;
  const tuple = tupleOf(r);
  let current = r;
  for (let hop = 0; hop < MAX_THREAD_HOPS; hop++) {
    const parentId = current.inReplyTo ?? current.references?.at(-1);
    // not threaded at all: the parts of one sender's series share the tuple, so group by sender
    if (parentId === undefined) return `unthreaded:${current.from?.email ?? ''}`;
    const parent = records.get(parentId);
    // chained threading (each patch answers the previous one): follow to the top
    if (parent && isPart(parent) && parent.bucket === 'patch' && tupleOf(parent) === tuple) {
      current = parent;
      continue;
    }
    return parentId;
  }
  return current.key;
}

/** The key that groups a part into its series: repo, branch, version, total and thread root. */
export function seriesGroupKey(r: MessageRecord, records: Map<string, MessageRecord>): string {
  return groupKeyOf(r, rootOf(r, records));
}

function groupKeyOf(r: MessageRecord, rootId: string): string {
  return `${tupleOf(r)}\0${rootId}`;
}

function hash8(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/** The cover letter's original in a series directory. */
export const COVER_EML = '0000-cover-letter.eml';

/** As git format-patch names patch files. */
export function patchFileName(number: number, subject: string): string {
  const slug = subject.replace(/[^A-Za-z0-9._]+/g, '-').replace(/\.+/g, '.').replace(/^[-.]+/, '').slice(0, 52).replace(/[-.]+$/, '');
  return `${String(number).padStart(4, '0')}-${slug || 'patch'}`;
}

export function slugOf(s: string, max: number): string {
  const slug = s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, max).replace(/-+$/, '');
  return slug || 'untitled';
}

function byDateThenKey(a: MessageRecord, b: MessageRecord): number {
  const ad = a.date ?? '';
  const bd = b.date ?? '';
  return ad < bd ? -1 : ad > bd ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function normalSubject(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').trim();
}

interface Group {
  key: string;
  rootId: string;
  parts: MessageRecord[];
}

function groupParts(records: Map<string, MessageRecord>): Group[] {
  const groups = new Map<string, Group>();
  for (const r of records.values()) {
    if (!isPart(r)) continue;
    const rootId = rootOf(r, records);
    const key = groupKeyOf(r, rootId);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, rootId, parts: [] }));
    g.parts.push(r);
  }
  return [...groups.values()];
}

function seriesOf(g: Group): Series {
  const first = g.parts[0]!;
  const total = first.total ?? 1;
  const sorted = [...g.parts].sort(byDateThenKey);
  // two messages for one slot (a resend under a new Message-ID): the later Date wins
  const slots = new Map<number, MessageRecord>();
  let cover: MessageRecord | undefined;
  for (const r of sorted) {
    if (r.bucket === 'cover') cover = r;
    else slots.set(r.number ?? 1, r);
  }
  const patches = [...slots.entries()].sort(([a], [b]) => a - b).map(([number, record]) => ({ number, record, name: patchFileName(number, record.commitSubject ?? record.subject), trailers: [] as string[] }));
  const missing: number[] = [];
  for (let n = 1; n <= total; n++) if (!slots.has(n)) missing.push(n);
  const subject = cover?.commitSubject ?? patches[0]?.record.commitSubject ?? cover?.subject ?? patches[0]?.record.subject ?? '';
  const earliest = sorted.find((r) => r.date)?.date ?? [...sorted].map((r) => r.harvestedAt).sort()[0]!;
  const day = earliest.slice(0, 10);
  const version = first.version ?? 1;
  const id = `${day}-${slugOf(subject, 40)}-v${version}-${hash8(g.key)}`;
  const { repo, branch } = first.route!;
  const submitter = (cover ?? patches[0]?.record)?.from;
  return {
    key: g.key,
    id,
    day,
    dir: ['archive', day, repo, branch, id].join('/'),
    repo,
    branch,
    version,
    total,
    status: missing.length > 0 ? 'incomplete' : 'ready',
    missing,
    subject,
    ...(submitter ? { submitter } : {}),
    ...(cover ? { cover } : {}),
    patches,
    members: sorted.map((r) => r.key),
  };
}

/** A newer version supersedes an older one: its cover answers the old root, or the subjects match. */
function markSuperseded(all: Series[], rootIds: Map<Series, string>): void {
  const answeredBy = new Map<string, Series[]>();
  const bySubject = new Map<string, Series[]>();
  const subjectKey = (s: Series) => `${s.repo}\0${s.branch}\0${normalSubject(s.subject)}`;
  for (const s of all) {
    pushTo(bySubject, subjectKey(s), s);
    const head = s.cover ?? s.patches[0]?.record;
    for (const id of new Set([head?.inReplyTo, ...(head?.references ?? [])])) if (id !== undefined) pushTo(answeredBy, id, s);
  }
  for (const older of all) {
    const candidates = [...(bySubject.get(subjectKey(older)) ?? []), ...(answeredBy.get(rootIds.get(older)!) ?? [])];
    let newest: Series | undefined;
    for (const c of candidates) {
      if (c.repo !== older.repo || c.branch !== older.branch || c.version <= older.version) continue;
      if (!newest || c.version > newest.version || (c.version === newest.version && c.id < newest.id)) newest = c;
    }
    if (newest) {
      older.status = 'superseded';
      older.supersededBy = newest.id;
    }
  }
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Follow a reply up its thread to the patch or cover it answers (replies may answer replies). */
function answeredPart(reply: MessageRecord, records: Map<string, MessageRecord>, byRoot: Map<string, Series[]>): MessageRecord | Series[] | undefined {
  const tried = new Set<string>();
  const candidates = [reply.inReplyTo, ...[...(reply.references ?? [])].reverse()];
  for (let id of candidates) {
    for (let hop = 0; id !== undefined && hop < MAX_THREAD_HOPS && !tried.has(id); hop++) {
      tried.add(id);
      const target = records.get(id);
      if (target && isPart(target)) return target;
      if (!target && byRoot.has(id)) return byRoot.get(id); // the cover has not arrived yet
      if (!target || target.bucket !== 'comment') break;
      id = target.inReplyTo;
    }
  }
  return undefined;
}

/** Attach review trailers of replies: to the patch answered, or to every patch when the cover is. */
function collectTrailers(all: Series[], records: Map<string, MessageRecord>, rootIds: Map<Series, string>): void {
  const seriesOfPart = new Map<string, Series>();
  const byRoot = new Map<string, Series[]>();
  for (const s of all) {
    for (const k of s.members) seriesOfPart.set(k, s);
    pushTo(byRoot, rootIds.get(s)!, s);
  }
  const replies = [...records.values()].filter((r) => r.bucket === 'comment' && r.trailers?.length).sort(byDateThenKey);
  for (const reply of replies) {
    const target = answeredPart(reply, records, byRoot);
    if (target === undefined) continue;
    const targets: Array<{ series: Series; patches: SeriesPatch[] }> = Array.isArray(target)
      ? target.map((series) => ({ series, patches: series.patches }))
      : (() => {
          const series = seriesOfPart.get(target.key);
          if (!series) return [];
          const patches = target.bucket === 'cover' ? series.patches : series.patches.filter((p) => p.record.key === target.key);
          return [{ series, patches }];
        })();
    for (const { series, patches } of targets) {
      if (patches.length === 0) continue;
      series.members.push(reply.key);
      for (const p of patches) for (const t of reply.trailers!) if (!p.trailers.includes(t)) p.trailers.push(t);
    }
  }
}

/** Every series the seen-store holds, keyed by series key. */
export function buildSeries(records: Map<string, MessageRecord>): Map<string, Series> {
  const groups = groupParts(records);
  const all = groups.map(seriesOf);
  const rootIds = new Map(all.map((s, i) => [s, groups[i]!.rootId]));
  markSuperseded(all, rootIds);
  collectTrailers(all, records, rootIds);
  return new Map(all.map((s) => [s.key, s]));
}
