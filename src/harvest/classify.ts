/**
 * Which bucket a message lands in (the words of DESIGN.md). Classification comes from the headers
 * and the thread, not from diff presence: a reply carrying a diff is a comment. Duplicates are
 * the pipeline's call (it knows what was seen).
 */
import type { Config } from '../core/config-types.js';
import type { Bucket, Route } from './types.js';
import type { HeaderFacts } from './examine.js';
import type { Extraction, SubjectTag } from './mail/types.js';
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
}

/** What classification needs of a parsed body: an Extraction, or these facts of one (from the parse worker). */
export interface BodyFacts {
  hasDiff: boolean;
  pullRequest: boolean;
}

function bodyFactsOf(body: Extraction | BodyFacts | undefined): BodyFacts | undefined {
  if (body === undefined || 'hasDiff' in body) return body;
  return { hasDiff: body.diff !== '', pullRequest: body.pullRequest };
}

export const NO_CONFIG_REASON = 'no config: route not checked';
const GRAMMAR = 'expected [<branch> PATCH <repo> vN n/m]';

function tagWords(tag: SubjectTag): string {
  return `[${tag.raw.slice(0, 80)}]`;
}

/** A tag whose counter cannot be right: 5/3, n/0. */
function counterProblem(tag: SubjectTag): string | undefined {
  if (tag.number === undefined || tag.total === undefined) return undefined;
  if (tag.total === 0) return `counter ${tag.number}/${tag.total} has a total of 0`;
  if (tag.number > tag.total) return `counter ${tag.number}/${tag.total} is past the total`;
  return undefined;
}

function classifyTagged(tag: SubjectTag, headers: HeaderFacts, body: BodyFacts | undefined, ctx: ClassifyContext): Classification {
  if (tag.branch === undefined || tag.repo === undefined) {
    const missing = tag.branch === undefined && tag.repo === undefined ? 'no branch and no repo' : tag.branch === undefined ? 'no branch' : 'no repo';
    return { bucket: 'unroutable', reason: `subject tag ${tagWords(tag)} names ${missing}: ${GRAMMAR}; not guessed`, tag };
  }
  const counter = counterProblem(tag);
  if (counter) return { bucket: 'quarantined', reason: `subject tag ${tagWords(tag)}: ${counter}`, tag };
  const isCover = tag.number === 0;
  if (!isCover && body !== undefined && !body.hasDiff) {
    return { bucket: 'quarantined', reason: `subject tag ${tagWords(tag)} says patch but the mail carries no diff`, tag };
  }
  const bucket = isCover ? 'cover' : 'patch';
  if (ctx.config === undefined) {
    const problem = refNameProblem(tag.branch) ?? refNameProblem(tag.repo);
    if (problem) return { bucket: 'quarantined', reason: `subject tag ${tagWords(tag)}: branch or repo word ${problem}`, tag };
    return { bucket, reason: NO_CONFIG_REASON, route: { repo: tag.repo, branch: tag.branch }, tag };
  }
  const routed = routeTag({ ...tag, branch: tag.branch, repo: tag.repo }, headers.from, ctx.config);
  if ('reason' in routed) return { bucket: 'quarantined', reason: routed.reason, tag };
  return { bucket, route: routed.route, tag };
}

/** The bucket of one message, from its headers and (when parsed) its extraction. Never throws. */
export function classifyMessage(headers: HeaderFacts, parsed: Extraction | BodyFacts | undefined, ctx: ClassifyContext = {}): Classification {
  const body = bodyFactsOf(parsed);
  const tag = headers.tag;
  const withTag = tag ? { tag } : {};
  if (ctx.unusable !== undefined) return { bucket: 'quarantined', reason: `unusable: ${ctx.unusable}`, ...withTag };
  if (headers.isReply) return { bucket: 'comment', reason: 'a reply (Re:/AW:/Fwd: prefix): a comment, never applied even with a diff', ...withTag };
  if (headers.isPullRequest) return { bucket: 'pull-request', reason: 'a pull request ([GIT PULL]): never fed to git am', ...withTag };
  if (body?.pullRequest) return { bucket: 'pull-request', reason: 'a pull request ("The following changes since commit"): never fed to git am', ...withTag };
  if (tag) return classifyTagged(tag, headers, body, ctx);
  if (headers.looksLikePatch) return { bucket: 'unroutable', reason: `subject ${quoteWord(headers.subject)} looks like a patch but does not match the subject pattern` };
  if (body?.hasDiff) {
    return { bucket: 'unroutable', reason: `carries a diff but the subject has no patch tag (${GRAMMAR}); not guessed` };
  }
  return { bucket: 'other', reason: 'no patch tag and no diff' };
}
