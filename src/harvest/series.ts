/**
 * Series from the seen-store: a pure function of the set of records, so any arrival order and
 * any split into runs gives the same series. Decisions: docs/decisions/harvest-series.md.
 */
import { createHash } from 'node:crypto';
import type { MessageResult, PersonResult, SeriesStatus } from './types.js';
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
  /** Parts numbered past the total (`[PATCH 3/2]`): kept, after the others, in number order. */
  beyondTotal: number[];
  supersededBy?: string;
  subject: string;
  submitter?: PersonResult;
  cover?: MessageRecord;
  patches: SeriesPatch[];
  /** Keys of the messages that shape it: cover, patches (replaced ones too), and replies whose trailers it carries. */
  members: string[];
  /** Parts whose slot a later send took (a resend under a new Message-ID): not used. */
  replaced: ReplacedPart[];
}

export interface ReplacedPart {
  /** 0 for a cover letter. */
  number: number;
  record: MessageRecord;
  /** The part used instead. */
  by: MessageRecord;
}

const REVIEW_TRAILER = /^(reviewed|acked|tested)-by:\s*\S/i;
const MAX_THREAD_HOPS = 50;
/** A cover and unthreaded patches of one sender and tag sent this close together are one send. */
const COVER_JOIN_MS = 6 * 3600 * 1000;
const UNTHREADED = 'unthreaded:';

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
    if (parentId === undefined) return `${UNTHREADED}${current.from?.email ?? ''}`;
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
  /** The thread roots the group hangs on: its own, and a joined cover's Message-ID. */
  rootIds: string[];
  parts: MessageRecord[];
}

function groupParts(records: Map<string, MessageRecord>): Group[] {
  const groups = new Map<string, Group>();
  for (const r of records.values()) {
    if (!isPart(r)) continue;
    const rootId = rootOf(r, records);
    const key = groupKeyOf(r, rootId);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, rootIds: [rootId], parts: [] }));
    g.parts.push(r);
  }
  return joinUnthreadedCovers([...groups.values()]);
}

/** When a message was sent: its Date, else when it was harvested. */
function sentAt(r: MessageRecord): number {
  return Date.parse(r.date ?? r.harvestedAt);
}

/**
 * A cover letter whose patches do not answer it (no References, no In-Reply-To) stands alone
 * while they group by sender: join it to the unthreaded patches of the same sender and tag
 * (repo, branch, version, total) sent closest to it, within {@link COVER_JOIN_MS}.
 */
function joinUnthreadedCovers(groups: Group[]): Group[] {
  const unthreaded = new Map<string, Group[]>();
  for (const g of groups) if (g.rootIds[0]!.startsWith(UNTHREADED)) pushTo(unthreaded, g.key, g);
  const joined = new Set<Group>();
  for (const g of groups) {
    const cover = g.parts.length === 1 && g.parts[0]!.bucket === 'cover' ? g.parts[0]! : undefined;
    if (!cover || (cover.total ?? 1) <= 1) continue;
    const at = sentAt(cover);
    let best: { group: Group; distance: number } | undefined;
    for (const candidate of unthreaded.get(groupKeyOf(cover, `${UNTHREADED}${cover.from?.email ?? ''}`)) ?? []) {
      const distance = Math.min(...candidate.parts.map((p) => Math.abs(sentAt(p) - at)));
      if (distance <= COVER_JOIN_MS && (!best || distance < best.distance)) best = { group: candidate, distance };
    }
    if (!best) continue;
    best.group.parts.push(cover);
    best.group.rootIds.push(cover.key);
    joined.add(g);
  }
  return groups.filter((g) => !joined.has(g));
}

function seriesOf(g: Group): Series {
  const first = g.parts[0]!;
  const total = first.total ?? 1;
  const sorted = [...g.parts].sort(byDateThenKey);
  // two messages for one slot (a resend under a new Message-ID): the later Date wins
  const slots = new Map<number, MessageRecord>();
  const replaced: ReplacedPart[] = [];
  let cover: MessageRecord | undefined;
  for (const r of sorted) {
    const number = r.bucket === 'cover' ? 0 : (r.number ?? 1);
    const earlier = number === 0 ? cover : slots.get(number);
    if (earlier) replaced.push({ number, record: earlier, by: r });
    if (number === 0) cover = r;
    else slots.set(number, r);
  }
  const patches = [...slots.entries()].sort(([a], [b]) => a - b).map(([number, record]) => ({ number, record, name: patchFileName(number, record.commitSubject ?? record.subject), trailers: [] as string[] }));
  const missing: number[] = [];
  for (let n = 1; n <= total; n++) if (!slots.has(n)) missing.push(n);
  const beyondTotal = patches.filter((p) => p.number > total).map((p) => p.number);
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
    beyondTotal,
    subject,
    ...(submitter ? { submitter } : {}),
    ...(cover ? { cover } : {}),
    patches,
    members: sorted.map((r) => r.key),
    replaced,
  };
}

/** The normalized subject of each part (0: the cover), as sent. */
function partSubjects(s: Series): Map<number, string> {
  const subjects = new Map<number, string>();
  if (s.cover) subjects.set(0, normalSubject(s.cover.commitSubject ?? s.cover.subject));
  for (const p of s.patches) subjects.set(p.number, normalSubject(p.record.commitSubject ?? p.record.subject));
  return subjects;
}

/** The same series sent again without a new version: one sender, one tag, and the parts both have carry the same subjects. */
function isResend(a: Series, b: Series, subjects: Map<Series, Map<number, string>>): boolean {
  if (a.total !== b.total || a.submitter?.email === undefined || a.submitter.email !== b.submitter?.email) return false;
  const as = subjects.get(a)!;
  const bs = subjects.get(b)!;
  let shared = 0;
  for (const [n, subject] of as) {
    const other = bs.get(n);
    if (other === undefined) continue;
    if (other !== subject) return false;
    shared += 1;
  }
  return shared > 0;
}

/**
 * A newer version supersedes an older one: its cover answers the old root, or the subjects
 * match. A resend of the same version (see {@link isResend}) supersedes the earlier send.
 */
function markSuperseded(all: Series[], rootIds: Map<Series, string[]>): void {
  const answeredBy = new Map<string, Series[]>();
  const bySubject = new Map<string, Series[]>();
  const byTag = new Map<string, Series[]>();
  const subjectKey = (s: Series) => `${s.repo}\0${s.branch}\0${normalSubject(s.subject)}`;
  const tagKey = (s: Series) => `${s.repo}\0${s.branch}\0${s.version}\0${s.total}`;
  const sent = new Map<Series, number>();
  const subjects = new Map<Series, Map<number, string>>();
  for (const s of all) {
    pushTo(bySubject, subjectKey(s), s);
    pushTo(byTag, tagKey(s), s);
    const head = s.cover ?? s.patches[0]?.record;
    for (const id of new Set([head?.inReplyTo, ...(head?.references ?? [])])) if (id !== undefined) pushTo(answeredBy, id, s);
    sent.set(s, Math.min(...[s.cover, ...s.patches.map((p) => p.record)].filter((r) => r !== undefined).map(sentAt)));
    subjects.set(s, partSubjects(s));
  }
  // a total order of sends: by when they were sent, then by id
  const later = (a: Series, b: Series) => sent.get(a)! > sent.get(b)! || (sent.get(a) === sent.get(b) && a.id > b.id);
  for (const older of all) {
    const answering = rootIds.get(older)!.flatMap((id) => answeredBy.get(id) ?? []);
    const candidates = [...(bySubject.get(subjectKey(older)) ?? []), ...answering, ...(byTag.get(tagKey(older)) ?? [])];
    let newest: Series | undefined;
    for (const c of candidates) {
      if (c === older || c.repo !== older.repo || c.branch !== older.branch || c.version < older.version) continue;
      if (c.version === older.version && !(isResend(older, c, subjects) && later(c, older))) continue;
      if (!newest || c.version > newest.version || (c.version === newest.version && later(c, newest))) newest = c;
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
function collectTrailers(all: Series[], records: Map<string, MessageRecord>, rootIds: Map<Series, string[]>): void {
  const seriesOfPart = new Map<string, Series>();
  const byRoot = new Map<string, Series[]>();
  for (const s of all) {
    for (const k of s.members) seriesOfPart.set(k, s);
    for (const id of rootIds.get(s)!) pushTo(byRoot, id, s);
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
  const rootIds = new Map(all.map((s, i) => [s, groups[i]!.rootIds]));
  markSuperseded(all, rootIds);
  collectTrailers(all, records, rootIds);
  return new Map(all.map((s) => [s.key, s]));
}

/** A message result with its bucket and reason changed, keys in harvest.json's order (id, bucket, reason, the rest). */
function rebucketed(m: MessageResult, bucket: MessageResult['bucket'], reason: string): MessageResult {
  const result = { messageId: m.messageId, bucket, reason } as MessageResult;
  for (const [key, value] of Object.entries(m)) if (!(key in result)) Object.assign(result, { [key]: value });
  if (bucket === 'duplicate') {
    // as any duplicate: no place in a series, and not a part of one
    for (const key of ['seriesId', 'archived', 'version', 'number', 'total'] as const) delete result[key];
  }
  return result;
}

/**
 * The messages of this run that a later send replaced: a part whose slot went to a resend is a
 * `duplicate`, and the parts of a superseded series say so. Never a `patch` outside any series.
 */
export function reportReplaced(messages: MessageResult[], series: Map<string, Series>): void {
  const notes = new Map<string, { bucket?: 'duplicate'; reason: string }>();
  for (const s of series.values()) {
    if (s.status === 'superseded') {
      for (const r of [s.cover, ...s.patches.map((p) => p.record)]) if (r) notes.set(r.key, { reason: `series ${s.id} superseded by ${s.supersededBy}` });
    }
    for (const r of s.replaced) {
      const part = r.number === 0 ? 'the cover letter' : `part ${r.number}`;
      notes.set(r.record.key, { bucket: 'duplicate', reason: `${part} of series ${s.id} was sent again as ${r.by.key}: the later send is used` });
    }
  }
  for (const [i, m] of messages.entries()) {
    const note = (m.bucket === 'patch' || m.bucket === 'cover') && notes.get(m.messageId);
    if (!note) continue;
    messages[i] = rebucketed(m, note.bucket ?? m.bucket, m.reason ? `${note.reason}; ${m.reason}` : note.reason);
  }
}
