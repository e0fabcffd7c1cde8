/**
 * What one raw message tells the harvest before any decision that needs the seen-store: its
 * headers, its key, and (when it may be a part or a review) the facts of a full parse. Pure and
 * cheap to send between threads: the parse worker computes it, the harvest decides from it.
 */
import { messageBytes, type BodyFacts } from './classify.js';
import { gitDateSeconds } from './mail/date.js';
import { parseMessage } from './mail/extract.js';
import { headerBlockEnd, readHeaders } from './mail/headers.js';
import { messageKey } from './mail/message-key.js';
import type { Extraction, MessageHeaders, ParsedMessage, Person } from './mail/types.js';
import { reviewTrailers } from './route.js';
import type { StagedFiles } from './staging.js';

/** A full parse, reduced to what the harvest keeps (the bodies stay where they were parsed). */
export interface ParsedFacts extends BodyFacts {
  unusable?: string;
  author: Person;
  /** The author date git am will record (absent when git cannot read it: see authorDateUnreadable). */
  date?: string;
  /** The commit subject, cleaned as mailinfo does. */
  subject: string;
  /** Reviewed-by/Acked-by/Tested-by lines of the body (what a reply gives). */
  reviewTrailers: string[];
}

/** The headers as the harvest decides from them (what inspect reports besides is left in the worker). */
export type HeaderFacts = Omit<MessageHeaders, 'warnings' | 'dateHeader' | 'messageId'> & {
  /** The Message-ID is one patchline gives its own report mails (they reach the list it reads). */
  ownReport?: true;
};

/** The Message-IDs patchline gives its report mails (src/report/compose.ts: `patchline.<...>@<domain>`). */
const OWN_REPORT_ID = /^<?patchline\.[^@\s]+@/;

export function isOwnReportId(messageId: string | undefined): boolean {
  return messageId !== undefined && OWN_REPORT_ID.test(messageId);
}

/** Only the fields the harvest reads: every message's facts cross between threads. */
function headerFacts(h: MessageHeaders): HeaderFacts {
  const facts: HeaderFacts = { subject: h.subject, references: h.references, isReply: h.isReply, isPullRequest: h.isPullRequest, looksLikePatch: h.looksLikePatch };
  if (h.from) facts.from = h.from;
  if (h.date) facts.date = h.date;
  if (h.dateUnreadable !== undefined) facts.dateUnreadable = h.dateUnreadable;
  if (h.inReplyTo !== undefined) facts.inReplyTo = h.inReplyTo;
  if (h.tag) facts.tag = h.tag;
  if (isOwnReportId(h.messageId)) facts.ownReport = true;
  return facts;
}

export interface MessageFacts {
  key: string;
  headers: HeaderFacts;
  /** Cheap byte markers of a body that may hide a diff or a pull request. */
  bodyMarkers: boolean;
  /** Set when the message was fully parsed: always when the harvest's {@link needsFullParse} can hold. */
  parsed?: ParsedFacts;
  /** Where the parse worker put the message's archive files ahead of time (patch and cover candidates). */
  staged?: StagedFiles;
}

export interface ExamineOptions {
  subjectPattern?: RegExp;
  /** Larger messages are quarantined unparsed. */
  maxBytes: number;
}

const PATCH_SUBJECT = /^subject:[^\n]*PATCH/im;
const BODY_MARKERS = ['diff --git', '\n--- ', 'The following changes since commit', 'base64'].map((m) => Buffer.from(m, 'latin1'));

/**
 * The headers decide what a full parse is for: patch/cover candidates, replies in a patch thread
 * (`inKnownThread`: the harvest asks its seen-store), chatter whose body may hide a diff.
 */
export function needsFullParse(headers: HeaderFacts, bodyMarkers: boolean, inKnownThread: (headers: HeaderFacts) => boolean): boolean {
  if (headers.isReply) return headers.tag !== undefined || inKnownThread(headers);
  if (headers.isPullRequest) return false;
  if (headers.tag) return true;
  if (headers.looksLikePatch) return false;
  return bodyMarkers;
}

/** Any reply with a parent may be in a known thread: what a worker without the seen-store parses. */
function hasParent(headers: HeaderFacts): boolean {
  return headers.inReplyTo !== undefined || headers.references.length > 0;
}

const patterns = new Map<string, RegExp>();
/** A source's subjectPattern, compiled once per thread. */
export function subjectPatternOf(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  let re = patterns.get(source);
  if (!re) patterns.set(source, (re = new RegExp(source)));
  return re;
}

export function parsedFacts(parsed: ParsedMessage): ParsedFacts {
  const e = parsed.extraction;
  const dateReadable = e.date !== undefined && gitDateSeconds(e.date) !== undefined;
  return {
    ...(parsed.unusable === undefined ? {} : { unusable: parsed.unusable }),
    author: e.author,
    ...(dateReadable ? { date: e.date } : {}),
    ...(e.date !== undefined && !dateReadable ? { authorDateUnreadable: true } : {}),
    messageBytes: messageBytes(e),
    subject: e.subject,
    hasDiff: e.diff !== '',
    pullRequest: e.pullRequest,
    ...(e.undecodable === undefined ? {} : { undecodable: e.undecodable }),
    reviewTrailers: parsed.headers.isReply ? reviewTrailers(e) : [],
  };
}

/** Examine one message; the extraction comes along for whoever renders its patch file. Never throws. */
export function examineMessage(raw: Buffer, opts: ExamineOptions): { facts: MessageFacts; extraction?: Extraction } {
  const small = raw.length <= opts.maxBytes;
  // a Subject line naming PATCH almost always means a full parse: do it first, it brings the headers
  const early = small && PATCH_SUBJECT.test(raw.toString('latin1', 0, Math.min(headerBlockEnd(raw), 8192))) ? parseMessage(raw, { subjectPattern: opts.subjectPattern }) : undefined;
  const headers = early?.headers ?? readHeaders(raw, { subjectPattern: opts.subjectPattern });
  const bodyMarkers = small && BODY_MARKERS.some((m) => raw.includes(m));
  const parsed = early ?? (small && needsFullParse(headers, bodyMarkers, hasParent) ? parseMessage(raw, { subjectPattern: opts.subjectPattern }) : undefined);
  const facts: MessageFacts = { key: messageKey(headers, raw), headers: headerFacts(headers), bodyMarkers, ...(parsed ? { parsed: parsedFacts(parsed) } : {}) };
  return parsed ? { facts, extraction: parsed.extraction } : { facts };
}
