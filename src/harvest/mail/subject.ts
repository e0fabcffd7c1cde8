/**
 * The subject grammar of DESIGN.md: one bracket group holding `<branch> PATCH` and, in any
 * order, the repo word, `vN` and `n/m` (`[stable-2.1 PATCH v2 3/7 libvirt]`); or a configured
 * regex with named groups branch, repo, version, number, total.
 */
import type { SubjectTag } from './types.js';

export interface SubjectFacts {
  isReply: boolean;
  isPullRequest: boolean;
  looksLikePatch: boolean;
  tag?: SubjectTag;
}

/** `Re:`, `RE:`, `AW:`, `Fwd:`, `Fw:`, `SV:` (repeated, with or without space). */
const REPLY_PREFIX = /^(?:re|aw|fwd?|sv|antw|wg)\s*:/i;
/** Words that may sit in a patch tag without meaning branch or repo. */
const IGNORED_TAG_WORDS = new Set(['rfc', 'resend']);
const VERSION_WORD = /^v(\d{1,6})$/i;
const COUNT_WORD = /^(\d{1,6})\/(\d{1,6})$/;
/** Longer subjects are cut: nothing legitimate is longer, and the rules below must stay linear. */
const MAX_SUBJECT = 4096;

interface Prefix {
  isReply: boolean;
  /** Bracket groups before the text, e.g. `[Libguestfs]`, `[master PATCH nbdkit 1/2]`. */
  groups: string[];
}

/** Reply prefixes and leading bracket groups, in whatever order a list and mailers stacked them. */
function readPrefix(subject: string): Prefix {
  let s = subject.slice(0, MAX_SUBJECT);
  let isReply = false;
  const groups: string[] = [];
  for (;;) {
    s = s.trimStart();
    const reply = REPLY_PREFIX.exec(s);
    if (reply) {
      isReply = true;
      s = s.slice(reply[0].length);
      continue;
    }
    if (s.startsWith('[')) {
      const close = s.indexOf(']');
      if (close < 0) break;
      groups.push(s.slice(1, close).trim());
      s = s.slice(close + 1);
      continue;
    }
    break;
  }
  return { isReply, groups };
}

function isPatchGroup(group: string): boolean {
  return group.split(/\s+/).some((w) => w.toUpperCase() === 'PATCH');
}

function isPullGroup(group: string): boolean {
  return /^(GIT\s+)?PULL\b/i.test(group);
}

/** `<branch> PATCH` then repo, vN, n/m in any order; several words where one belongs are kept joined (and later refused). */
export function parsePatchGroup(group: string): SubjectTag {
  const words = group.split(/\s+/).filter((w) => w !== '' && !IGNORED_TAG_WORDS.has(w.toLowerCase()));
  const at = words.findIndex((w) => w.toUpperCase() === 'PATCH');
  const before = words.slice(0, at);
  const repoWords: string[] = [];
  const tag: SubjectTag = { version: 1, raw: group };
  for (const w of words.slice(at + 1)) {
    const v = VERSION_WORD.exec(w);
    const n = COUNT_WORD.exec(w);
    if (v) tag.version = Number(v[1]);
    else if (n) {
      tag.number = Number(n[1]);
      tag.total = Number(n[2]);
    } else repoWords.push(w);
  }
  if (before.length > 0) tag.branch = before.join(' ');
  if (repoWords.length > 0) tag.repo = repoWords.join(' ');
  return tag;
}

function optionalInt(s: string | undefined): number | undefined {
  return s === undefined || !/^\d{1,6}$/.test(s) ? undefined : Number(s);
}

/** The configured regex's named groups as a tag (undefined when it does not match). */
function tagFromPattern(subject: string, pattern: RegExp): SubjectTag | undefined {
  const m = pattern.exec(subject.slice(0, MAX_SUBJECT));
  if (!m) return undefined;
  const g = m.groups ?? {};
  const tag: SubjectTag = { version: optionalInt(g.version) ?? 1, raw: m[0] };
  if (g.branch) tag.branch = g.branch;
  if (g.repo) tag.repo = g.repo;
  const number = optionalInt(g.number);
  const total = optionalInt(g.total);
  if (number !== undefined && total !== undefined) {
    tag.number = number;
    tag.total = total;
  }
  return tag;
}

/** What a subject says: reply, pull request, patch, and its tag. Never throws. */
export function parseSubjectTag(subject: string, pattern?: RegExp): SubjectFacts {
  const prefix = readPrefix(subject);
  const patchGroup = prefix.groups.find(isPatchGroup);
  const isPullRequest = prefix.groups.some(isPullGroup);
  if (pattern) {
    const tag = tagFromPattern(subject, pattern);
    return { isReply: prefix.isReply, isPullRequest, looksLikePatch: tag !== undefined || patchGroup !== undefined, ...(tag ? { tag } : {}) };
  }
  if (patchGroup === undefined) return { isReply: prefix.isReply, isPullRequest, looksLikePatch: false };
  return { isReply: prefix.isReply, isPullRequest, looksLikePatch: true, tag: parsePatchGroup(patchGroup) };
}
