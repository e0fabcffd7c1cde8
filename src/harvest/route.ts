/**
 * Routing a tagged mail to a configured repo and branch. Only repos and branches named in the
 * config are ever touched; branch and repo words are checked against git's ref-name rules (and
 * refused when they hold shell metacharacters) before anything uses them.
 */
import type { Config } from '../core/config-types.js';
import type { Route } from './types.js';
import type { Extraction, Person, SubjectTag } from './mail/types.js';

/** Characters git refuses in a ref name, plus shell metacharacters we refuse on principle. */
const FORBIDDEN_CHARS = /[\x00-\x20\x7f~^:?*[\\;|&$()<>`'"!{}]/;

/** Why `name` is not a valid git branch name (`git check-ref-format --branch` rules), or undefined when it is. */
export function refNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > 200) return 'is longer than 200 characters';
  if (name.startsWith('-')) return 'starts with "-"';
  if (name === '@') return 'is "@"';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  const bad = FORBIDDEN_CHARS.exec(name);
  if (bad) return `contains ${JSON.stringify(bad[0])}`;
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty path component ("/" at either end or "//")';
  if (name.endsWith('.')) return 'ends with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'has a path component starting with "."';
    if (part.endsWith('.lock')) return 'has a path component ending with ".lock"';
  }
  return undefined;
}

/** A word from a mail, safe to quote in a reason line: JSON-quoted, control chars escaped, cut at 60. */
export function quoteWord(word: string): string {
  return JSON.stringify(word.length > 60 ? word.slice(0, 60) + '…' : word);
}

/** Exact address or `@domain`, case-insensitive. */
export function senderAllowed(email: string, allowed: string[]): boolean {
  const e = email.toLowerCase();
  return allowed.some((a) => {
    const rule = a.toLowerCase();
    return rule.startsWith('@') ? e.endsWith(rule) : e === rule;
  });
}

export type RouteOutcome = { route: Route } | { reason: string };

/**
 * The default route (`route:` in the config) of the source a message was read from: a message's
 * `where` starts with its source's name and a colon (source names hold no colon).
 */
export function routeOfSource(config: Config, where: string): Route | undefined {
  const name = where.slice(0, where.indexOf(':'));
  return config.sources.find((s) => s.name === name)?.route;
}

/** Route a tag with both branch and repo against the config; a reason naming the known choices when it cannot. */
export function routeTag(tag: SubjectTag & { branch: string; repo: string }, sender: Person | undefined, config: Config): RouteOutcome {
  const repoProblem = refNameProblem(tag.repo) ?? (tag.repo.includes('/') ? 'contains "/"' : undefined);
  if (repoProblem) return { reason: `repo word ${quoteWord(tag.repo)} ${repoProblem}: not a usable name` };
  const branchProblem = refNameProblem(tag.branch);
  if (branchProblem) return { reason: `branch word ${quoteWord(tag.branch)} ${branchProblem}: not a valid git branch name` };
  const repos = Object.keys(config.repos);
  const repo = Object.hasOwn(config.repos, tag.repo) ? config.repos[tag.repo] : undefined;
  if (!repo) return { reason: `repo ${quoteWord(tag.repo)} is not configured (known: ${repos.join(', ') || 'none'})` };
  if (!repo.branches.includes(tag.branch)) {
    return { reason: `branch ${quoteWord(tag.branch)} is not configured for repo ${tag.repo} (known: ${repo.branches.join(', ')})` };
  }
  if (repo.allowedSenders !== undefined) {
    const email = sender?.email ?? '';
    if (!senderAllowed(email, repo.allowedSenders)) return { reason: `sender ${email === '' ? '(none)' : quoteWord(email)} not allowed for repo ${tag.repo}` };
  }
  return { route: { repo: tag.repo, branch: tag.branch } };
}

const REVIEW_TRAILER = /^[ \t]*(reviewed|acked|tested)-by:[ \t]*(\S.*?)[ \t]*$/i;
const CANONICAL: Record<string, string> = { reviewed: 'Reviewed-by', acked: 'Acked-by', tested: 'Tested-by' };

/**
 * Review trailers a reply gives in its own text: Reviewed-by, Acked-by, Tested-by (any case),
 * not in quoted `>` lines and not below the signature. Canonical spelling, in order, no repeats.
 */
export function reviewTrailers(e: Extraction): string[] {
  const found: string[] = [];
  for (const raw of e.body.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '-- ') break;
    if (line.trimStart().startsWith('>')) continue;
    const m = REVIEW_TRAILER.exec(line);
    if (!m) continue;
    const trailer = `${CANONICAL[m[1]!.toLowerCase()]}: ${m[2]}`;
    if (!found.includes(trailer)) found.push(trailer);
  }
  return found;
}
