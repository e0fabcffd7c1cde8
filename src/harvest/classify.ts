/**
 * Which bucket a message lands in (the words of DESIGN.md). Classification comes from the headers
 * and the thread, not from diff presence: a reply carrying a diff is a comment. Duplicates are
 * the pipeline's call (it knows what was seen).
 */
import type { Config } from '../core/config-types.js';
import type { Bucket, Route } from './types.js';
import { isOwnReportId, type HeaderFacts } from './examine.js';
import type { Extraction, SubjectTag } from './mail/types.js';
import { gitDateSeconds } from './mail/date.js';
import { quoteWord, refNameProblem, routeTag } from './route.js';

export interface Classification {
  bucket: Exclude<Bucket, 'duplicate'>;
  /** One line: why a message is not a plain patch/cover (always set for quarantined and unroutable). */
  reason?: string;
  route?: Route;
  tag?: SubjectTag;
}

export interface ClassifyContext {
  /** Without a config routing is not checked (patchline inspect without --config). */
  config?: Config;
  /** ParsedMessage.unusable: the message is quarantined with it. */
  unusable?: string;
  /** The source's default route (route.ts routeOfSource): fills in the branch or repo a tag does not name. */
  defaultRoute?: Route;
}

/** What classification needs of a parsed body: an Extraction, or these facts of one (from the parse worker). */
export interface BodyFacts {
  hasDiff: boolean;
  pullRequest: boolean;
  /** Extraction.undecodable: git mailinfo stopped in the text, git am would refuse the mail. */
  undecodable?: string;
  /** Bytes of the commit message (subject and body, without the diff). */
  messageBytes?: number;
  /** The author date git am would use is there but git cannot read it. */
  authorDateUnreadable?: boolean;
}

/** Default harvest.maxBodyBytes: a commit message larger than this is not a commit message. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Bytes of the commit message git am would make from an extraction. */
export function messageBytes(e: Extraction): number {
  return Buffer.byteLength(e.subject) + Buffer.byteLength(e.body);
}

function bodyFactsOf(body: Extraction | BodyFacts | undefined): BodyFacts | undefined {
  if (body === undefined || 'hasDiff' in body) return body;
  const facts: BodyFacts = { hasDiff: body.diff !== '', pullRequest: body.pullRequest, messageBytes: messageBytes(body) };
  if (body.undecodable !== undefined) facts.undecodable = body.undecodable;
  if (body.date !== undefined && gitDateSeconds(body.date) === undefined) facts.authorDateUnreadable = true;
  return facts;
}

export const NO_CONFIG_REASON = 'no config: route not checked';
const GRAMMAR = 'expected [<branch> PATCH <repo> vN n/m]';

function tagWords(tag: SubjectTag): string {
  return `[${tag.raw.slice(0, 80)}]`;
}

/** A tag whose counter cannot be right: n/0. A part past its total (3/2: "one more fix") is kept. */
function counterProblem(tag: SubjectTag): string | undefined {
  if (tag.number === undefined || tag.total === undefined) return undefined;
  if (tag.total === 0) return `counter ${tag.number}/${tag.total} has a total of 0`;
  return undefined;
}

/** What a kept part's message says besides its bucket: numbered past its total, a date git cannot read. */
function partNotes(tag: SubjectTag, headers: HeaderFacts, body: BodyFacts | undefined): string | undefined {
  const notes: string[] = [];
  if (tag.number !== undefined && tag.total !== undefined && tag.number > tag.total) {
    notes.push(`numbered ${tag.number}/${tag.total}, past its total: kept in its series after part ${tag.total}, in number order`);
  }
  const applied = body?.authorDateUnreadable ? ', and the commit gets the time it is applied' : '';
  if (headers.dateUnreadable !== undefined) notes.push(`Date ${quoteWord(headers.dateUnreadable)} is not a date git can read: filed under the day it was harvested${applied}`);
  else if (headers.date === undefined) notes.push(`no Date header: filed under the day it was harvested${applied}`);
  else if (applied) notes.push('the in-body Date is not a date git can read: the commit gets the time it is applied');
  return notes.length > 0 ? notes.join('; ') : undefined;
}

/** The tag's branch and repo, the missing ones taken from the source's default route. */
function routeWords(tag: SubjectTag, defaultRoute: Route | undefined): { branch?: string; repo?: string } {
  if (!defaultRoute || (tag.branch !== undefined && tag.repo !== undefined)) return { branch: tag.branch, repo: tag.repo };
  return { branch: tag.branch ?? defaultRoute.branch, repo: tag.repo ?? defaultRoute.repo };
}

function classifyTagged(tag: SubjectTag, headers: HeaderFacts, body: BodyFacts | undefined, ctx: ClassifyContext): Classification {
  const { branch, repo } = routeWords(tag, ctx.defaultRoute);
  if (branch === undefined || repo === undefined) {
    const missing = branch === undefined && repo === undefined ? 'no branch and no repo' : branch === undefined ? 'no branch' : 'no repo';
    return { bucket: 'unroutable', reason: `subject tag ${tagWords(tag)} names ${missing}: ${GRAMMAR}; not guessed`, tag };
  }
  const counter = counterProblem(tag);
  if (counter) return { bucket: 'quarantined', reason: `subject tag ${tagWords(tag)}: ${counter}`, tag };
  const isCover = tag.number === 0;
  // a cover's text is never applied: only a patch is lost with it
  if (!isCover && body?.undecodable !== undefined) return { bucket: 'quarantined', reason: `subject tag ${tagWords(tag)}: ${body.undecodable}`, tag };
  if (!isCover && body !== undefined && !body.hasDiff) {
    return { bucket: 'quarantined', reason: `subject tag ${tagWords(tag)} says patch but the mail carries no diff`, tag };
  }
  const maxBody = ctx.config?.harvest?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!isCover && body?.messageBytes !== undefined && body.messageBytes > maxBody) {
    return { bucket: 'quarantined', reason: `subject tag ${tagWords(tag)}: the commit message would be ${body.messageBytes} bytes, over harvest.maxBodyBytes (${maxBody})`, tag };
  }
  const bucket = isCover ? 'cover' : 'patch';
  if (ctx.config === undefined) {
    const problem = refNameProblem(branch) ?? refNameProblem(repo);
    if (problem) return { bucket: 'quarantined', reason: `subject tag ${tagWords(tag)}: branch or repo word ${problem}`, tag };
    return { bucket, reason: NO_CONFIG_REASON, route: { repo, branch }, tag };
  }
  const routed = routeTag({ ...tag, branch, repo }, headers.from, ctx.config);
  if ('reason' in routed) return { bucket: 'quarantined', reason: routed.reason, tag };
  const notes = partNotes(tag, headers, body);
  return { bucket, route: routed.route, tag, ...(notes === undefined ? {} : { reason: notes }) };
}

/** The bucket of one message, from its headers and (when parsed) its extraction. Never throws. */
export function classifyMessage(headers: HeaderFacts & { messageId?: string }, parsed: Extraction | BodyFacts | undefined, ctx: ClassifyContext = {}): Classification {
  const body = bodyFactsOf(parsed);
  const tag = headers.tag;
  const withTag = tag ? { tag } : {};
  if (ctx.unusable !== undefined) return { bucket: 'quarantined', reason: `unusable: ${ctx.unusable}`, ...withTag };
  if (headers.isReply) return { bucket: 'comment', reason: 'a reply (Re:/AW:/Fwd: prefix): a comment, never applied even with a diff', ...withTag };
  if (headers.isPullRequest) return { bucket: 'pull-request', reason: 'a pull request ([GIT PULL]): never fed to git am', ...withTag };
  if (body?.pullRequest) return { bucket: 'pull-request', reason: 'a pull request ("The following changes since commit"): never fed to git am', ...withTag };
  // a conflict mail quotes the failing hunk: patchline's own report, back from the list, is never a patch
  if (headers.ownReport || isOwnReportId(headers.messageId)) return { bucket: 'other', reason: "a report mail of patchline's own (Message-ID patchline.*): never applied", ...withTag };
  if (tag) return classifyTagged(tag, headers, body, ctx);
  if (headers.looksLikePatch) return { bucket: 'unroutable', reason: `subject ${quoteWord(headers.subject)} looks like a patch but does not match the subject pattern` };
  if (body?.hasDiff) {
    return { bucket: 'unroutable', reason: `carries a diff but the subject has no patch tag (${GRAMMAR}); not guessed` };
  }
  return { bucket: 'other', reason: 'no patch tag and no diff' };
}
