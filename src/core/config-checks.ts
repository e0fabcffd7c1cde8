/**
 * The config's rules across fields, checked when the config is loaded (after the schema): all
 * that a step would refuse from the config alone, so that no step starts, and no mail is
 * consumed, on a config a later step rejects. Step code calls the same rules where it uses the
 * values; it keeps a check of its own only where runtime data (the run id) takes part.
 */
import { PatchlineError } from './errors.js';
import type { Config, ImapSourceConfig, SmtpConfig } from './config-types.js';
import { DEFAULT_LAYOUT, LAYOUT_PLACEHOLDERS, isSafeKey, keysClash, layoutKey } from '../publish/layout.js';

/** One mistake in the config: its dotted path, and the bad value with what is expected. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export function describeProblem(p: ConfigProblem): string {
  return `${p.path}: ${p.message}`;
}

/** One ECONFIG line for all the problems found (`(in <file>)` when the file is known). */
export function configError(problems: readonly ConfigProblem[], file?: string): PatchlineError {
  const lines = problems.map(describeProblem);
  return new PatchlineError('ECONFIG', `${lines.join('; ')}${file === undefined ? '' : ` (in ${file})`}`, { input: file ?? problems[0]?.path, details: { errors: lines } });
}

const quote = (value: string): string => JSON.stringify(value);

/** The `{name}` placeholders of a pattern that are not among `known`. */
function unknownPlaceholders(pattern: string, known: readonly string[]): string[] {
  return [...pattern.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!).filter((name) => !known.includes(name));
}

function placeholderMessage(pattern: string, known: readonly string[]): string | undefined {
  const unknown = unknownPlaceholders(pattern, known);
  if (unknown.length === 0) return undefined;
  const list = (names: readonly string[]) => names.map((n) => `{${n}}`).join(' ');
  return `${quote(pattern)}: unknown placeholder ${list(unknown)} (placeholders: ${list(known)})`;
}

function placeholderProblems(path: string, pattern: string | undefined, known: readonly string[]): ConfigProblem[] {
  const message = pattern === undefined ? undefined : placeholderMessage(pattern, known);
  return message === undefined ? [] : [{ path, message }];
}

// ---- names git and the state dir take --------------------------------------------------------

const REF_WORD_RULE = 'letters, digits, . _ - /, at most 100; no "..", no empty part, no part starting with "." or ending with ".lock", no "." at the end';

/**
 * A repo or branch word as config.schema.json allows it, that git takes as a branch name
 * (git check-ref-format) and cannot read as an option or a range.
 */
export function isSafeRefWord(word: string): boolean {
  return (
    /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(word) &&
    word.length <= 100 &&
    !word.includes('..') &&
    !word.endsWith('.') &&
    word.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'))
  );
}

/** Host names plain (clear-text) IMAP and SMTP are allowed to: the password never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  return /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i.test(host);
}

// ---- sources -------------------------------------------------------------------------------

/** Plain IMAP would send the password in clear: only to a loopback host. */
export function imapSecurityProblem(source: ImapSourceConfig): ConfigProblem | undefined {
  if ((source.security ?? 'tls') !== 'plain' || isLoopbackHost(source.host)) return undefined;
  // named by the source's name, as harvest has always named it
  return { path: `sources.${source.name}.security`, message: `plain IMAP is only allowed on a loopback host, not ${source.host}: use tls or starttls` };
}

export function checkSources(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Set<string>();
  for (const [i, source] of config.sources.entries()) {
    if (names.has(source.name)) problems.push({ path: `sources.${i}.name`, message: `${quote(source.name)} is used twice: a source's name keys its cursor and must be unique` });
    names.add(source.name);
    if (source.subjectPattern !== undefined) {
      try {
        new RegExp(source.subjectPattern);
      } catch (err) {
        problems.push({ path: `sources.${i}.subjectPattern`, message: `${quote(source.subjectPattern)}: not a valid regular expression (${(err as Error).message})` });
      }
    }
    const insecure = source.type === 'imap' ? imapSecurityProblem(source) : undefined;
    if (insecure) problems.push(insecure);
    if (source.route) problems.push(...sourceRouteProblems(`sources.${i}.route`, source.route, config));
  }
  return problems;
}

/** A source's default route names a configured repo and one of its branches (only those are ever touched). */
function sourceRouteProblems(path: string, route: { repo: string; branch: string }, config: Config): ConfigProblem[] {
  const repo = Object.hasOwn(config.repos, route.repo) ? config.repos[route.repo] : undefined;
  if (!repo) return [{ path: `${path}.repo`, message: `${quote(route.repo)} is not a configured repo (known: ${Object.keys(config.repos).join(', ') || 'none'})` }];
  if (!repo.branches.includes(route.branch)) return [{ path: `${path}.branch`, message: `${quote(route.branch)} is not a configured branch of repo ${route.repo} (known: ${repo.branches.join(', ')})` }];
  return [];
}

// ---- repos ---------------------------------------------------------------------------------

export function checkRepos(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [repo, rc] of Object.entries(config.repos)) {
    if (!isSafeRefWord(repo)) problems.push({ path: `repos.${repo}`, message: `${quote(repo)} is not usable as a repo name (${REF_WORD_RULE})` });
    for (const [i, branch] of rc.branches.entries()) {
      if (!isSafeRefWord(branch)) problems.push({ path: `repos.${repo}.branches.${i}`, message: `${quote(branch)} is not a usable branch name (${REF_WORD_RULE})` });
    }
    // test names are the JUnit case names and the log file names of the test step
    const names = (rc.tests ?? []).map((t) => t.name);
    for (const [i, name] of names.entries()) {
      if (names.indexOf(name) !== i) problems.push({ path: `repos.${repo}.tests.${i}.name`, message: `${quote(name)} is used twice; test names must be unique per repo` });
    }
  }
  return problems;
}

// ---- apply ---------------------------------------------------------------------------------

const PUSH_PATTERN_PLACEHOLDERS = ['repo', 'branch', 'date', 'runId'] as const;
export type PushVars = Record<(typeof PUSH_PATTERN_PLACEHOLDERS)[number], string>;

/** What the load-time check puts in for {date} and {runId} (the forms resolveRunDir gives). */
const SAMPLE_DATE = '2026-12-01';
const SAMPLE_RUN_IDS = ['20261201T020304Z', '20261201T020304Z-2'];

/** Fill in the placeholders of a pattern from `values`; unknown ones stay as they are. */
export function fillPlaceholders<K extends string>(pattern: string, values: Record<K, string>): string {
  return pattern.replace(/\{([^{}]*)\}/g, (whole, key: string) => (Object.hasOwn(values, key) ? values[key as K] : whole));
}

/** Why `pattern` gives no usable branch name for these values; undefined when it does. */
export function pushPatternProblem(pattern: string, vars: PushVars): string | undefined {
  const unknown = placeholderMessage(pattern, PUSH_PATTERN_PLACEHOLDERS);
  if (unknown) return unknown;
  const name = fillPlaceholders(pattern, vars);
  if (isSafeRefWord(name)) return undefined;
  return `${quote(pattern)} gives ${quote(name)} for repo ${vars.repo} branch ${vars.branch}: not a usable branch name (${REF_WORD_RULE})`;
}

/** A pattern as one repo uses it: a usable name for every branch, and no two branches on one staging branch. */
function pushPatternProblemsOf(path: string, pattern: string, repo: string, branches: readonly string[]): ConfigProblem[] {
  const targets = new Map<string, string>();
  for (const branch of branches) {
    for (const runId of SAMPLE_RUN_IDS) {
      const why = pushPatternProblem(pattern, { repo, branch, date: SAMPLE_DATE, runId });
      if (why) return [{ path, message: why }];
    }
    const target = fillPlaceholders(pattern, { repo, branch, date: SAMPLE_DATE, runId: SAMPLE_RUN_IDS[0]! });
    const before = targets.get(target);
    if (before !== undefined) {
      return [{ path, message: `${quote(pattern)} gives ${quote(target)} for branches ${before} and ${branch} of repo ${repo}: the series of both would be applied onto one staging branch (use {branch})` }];
    }
    if (target !== branch && branches.includes(target)) {
      return [{ path, message: `${quote(pattern)} gives ${quote(target)} for branch ${branch} of repo ${repo}: that is another configured branch of ${repo}, which would receive ${branch}'s series (use {branch})` }];
    }
    targets.set(target, branch);
  }
  return [];
}

export function checkApply(config: Config): ConfigProblem[] {
  const problems = new Map<string, ConfigProblem>();
  const add = (list: ConfigProblem[]) => list.forEach((p) => problems.set(describeProblem(p), p));
  const stage = config.apply?.pushPattern;
  add(placeholderProblems('apply.pushPattern', stage, PUSH_PATTERN_PLACEHOLDERS));
  // (an unusable repo or branch name is checkRepos' to report, not the pattern's)
  for (const [repo, rc] of Object.entries(config.repos).filter(([name]) => isSafeRefWord(name))) {
    const own = rc.apply?.pushPattern;
    const pattern = own ?? stage;
    if (pattern !== undefined) add(pushPatternProblemsOf(own !== undefined ? `repos.${repo}.apply.pushPattern` : 'apply.pushPattern', pattern, repo, rc.branches.filter(isSafeRefWord)));
  }
  return [...problems.values()];
}

// ---- build ---------------------------------------------------------------------------------

export const RELEASE_PLACEHOLDERS = ['date', 'datetime', 'shortsha', 'sha'] as const;
const SCM_URL_PLACEHOLDERS = ['repo', 'sha'] as const;

/** Platform keys that only one builder reads: set for the other, they would be silently ignored. */
const BUILDER_ONLY: Record<'target' | 'profile' | 'mock' | 'arch', 'koji' | 'local'> = { target: 'koji', profile: 'koji', mock: 'local', arch: 'local' };

export function checkBuild(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const platforms = config.platforms ?? [];
  const seen = new Set<string>();
  for (const [i, p] of platforms.entries()) {
    if (seen.has(p.name)) problems.push({ path: `platforms.${i}.name`, message: `${quote(p.name)} is used twice: a platform's name names its build dir and its yum repo, and must be unique` });
    seen.add(p.name);
    for (const [key, builder] of Object.entries(BUILDER_ONLY) as Array<[keyof typeof BUILDER_ONLY, 'koji' | 'local']>) {
      if (p[key] !== undefined && p.builder !== builder) {
        problems.push({ path: `platforms.${i}.${key}`, message: `${quote(p[key]!)} is only read for builder ${builder}; platform ${p.name} has builder ${p.builder}` });
      }
    }
  }
  const build = config.build ?? {};
  if (build.submit === 'scm' && build.scmUrl === undefined && platforms.some((p) => p.builder === 'koji')) {
    problems.push({ path: 'build.scmUrl', message: 'required when build.submit is scm and a platform is built by Koji (e.g. git+https://src.example.org/{repo}.git#{sha})' });
  }
  if (build.scmUrl !== undefined) problems.push(...scmUrlProblems(build.scmUrl));
  return [...problems, ...placeholderProblems('build.release', build.release, RELEASE_PLACEHOLDERS), ...placeholderProblems('build.scmUrl', build.scmUrl, SCM_URL_PLACEHOLDERS)];
}

/** The git URL schemes Koji's builder takes as SCM sources (koji.daemon.SCM); any other source is read as the path of an uploaded SRPM. */
const KOJI_GIT_SCHEMES = ['git://', 'git+http://', 'git+https://', 'git+rsync://', 'git+ssh://'] as const;

/** Koji builds a git commit from `<scheme>://host/repo.git#<commit>`: a known scheme, and the commit in the fragment. */
function scmUrlProblems(url: string): ConfigProblem[] {
  if (!KOJI_GIT_SCHEMES.some((s) => url.startsWith(s))) {
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0];
    return [{ path: 'build.scmUrl', message: `${quote(url)}: Koji builds from ${KOJI_GIT_SCHEMES.join(', ')} URLs only${scheme ? `, and reads a ${scheme} source as the path of an uploaded SRPM` : ''}` }];
  }
  const hash = url.indexOf('#');
  if (hash < 0 || !url.slice(hash).includes('{sha}')) return [{ path: 'build.scmUrl', message: `${quote(url)}: Koji needs the commit in the URL's fragment, e.g. ...#{sha}` }];
  return [];
}

// ---- publish -------------------------------------------------------------------------------

/** rsync's own rule: a colon before any slash means a remote host. */
export function isRemoteDestination(dest: string): boolean {
  return /^(?:[^@/:\s]+@)?[A-Za-z0-9][A-Za-z0-9.-]*:/.test(dest);
}

const REPO_NAME_PLACEHOLDERS = LAYOUT_PLACEHOLDERS;
/**
 * Names beside the repos that are not repos: the status page (report/status-page.ts STATUS_DIR)
 * and the upstream pages (upstream/pages.ts PAGES) at the top, and under each platform the
 * upstream packaging's repos, links and logs (upstream/repos.ts).
 */
export const RESERVED_PUBLISH_NAMES = ['status', 'report.html', 'status_report.html', 'queue.html', 'queue.json', 'upstream.css'];
export const RESERVED_PLATFORM_NAMES = ['repos', 'current', 'consistent', 'logs'];

/**
 * publish.layout gives every configured repo/branch on every platform a safe path of its own:
 * no repo holds two platforms, none sits inside another, none takes a reserved name.
 */
function layoutProblems(config: Config): ConfigProblem[] {
  const layout = config.publish?.layout ?? DEFAULT_LAYOUT;
  const own = placeholderProblems('publish.layout', layout, LAYOUT_PLACEHOLDERS);
  if (own.length > 0) return own;
  const path = 'publish.layout';
  const platformOf = new Map<string, string>();
  for (const platform of (config.platforms ?? []).map((p) => p.name)) {
    for (const [repo, rc] of Object.entries(config.repos)) {
      for (const branch of rc.branches) {
        if (!isSafeRefWord(repo) || !isSafeRefWord(branch)) continue; // checkRepos says why
        const key = layoutKey(layout, { platform, repo, branch });
        if (!isSafeKey(key)) return [{ path, message: `${quote(layout)} gives ${quote(key)} for ${repo}/${branch} on ${platform}: not a relative path (no empty, "." or ".." part)` }];
        const parts = key.split('/');
        if (RESERVED_PUBLISH_NAMES.includes(parts[0]!)) return [{ path, message: `${quote(layout)} gives ${quote(key)} for ${repo}/${branch} on ${platform}: "${parts[0]}" is taken beside the repos (the status page, the upstream pages)` }];
        if (parts[0] === platform && parts.length > 1 && RESERVED_PLATFORM_NAMES.includes(parts[1]!)) {
          return [{ path, message: `${quote(layout)} gives ${quote(key)} for ${repo}/${branch} on ${platform}: "${platform}/${parts[1]}" is taken by the upstream packaging (patchline upstream)` }];
        }
        const other = platformOf.get(key);
        if (other !== undefined && other !== platform) return [{ path, message: `${quote(layout)} puts platforms ${other} and ${platform} into one repo ${quote(key)}: put {platform} in it` }];
        platformOf.set(key, platform);
      }
    }
  }
  const keys = [...platformOf.keys()];
  for (const a of keys) {
    const b = keys.find((k) => keysClash(a, k));
    if (b !== undefined) return [{ path, message: `${quote(layout)} gives ${quote(a)} and ${quote(b)}: one repo would sit inside the other (set publish.layout so they differ, e.g. "{platform}/{repo}/{branch}" or "{platform}/{repo}-{branch}")` }];
  }
  return [];
}

export function checkPublish(config: Config): ConfigProblem[] {
  const publish = config.publish ?? {};
  const problems: ConfigProblem[] = [];
  if (publish.destination !== undefined && isRemoteDestination(publish.destination) && publish.baseUrl === undefined) {
    problems.push({ path: 'publish.baseUrl', message: `required when publish.destination is remote (${quote(publish.destination)}): the http(s) URL the repos are served under` });
  }
  return [...problems, ...placeholderProblems('publish.repoName', publish.repoName, REPO_NAME_PLACEHOLDERS), ...layoutProblems(config)];
}

// ---- report --------------------------------------------------------------------------------

export function smtpProblems(smtp: SmtpConfig): ConfigProblem[] {
  if ((smtp.security ?? 'starttls') !== 'plain' || isLoopbackHost(smtp.host)) return [];
  return [{ path: 'report.smtp.security', message: `"plain" (no TLS) is only allowed to a loopback host, not ${smtp.host}: use starttls or tls` }];
}

/** report.deliveryCheck searches the mailbox of an imap source. */
export function deliveryCheckProblems(config: Config): ConfigProblem[] {
  const wanted = config.report?.deliveryCheck;
  if (!wanted || config.sources.some((s) => s.name === wanted.source && s.type === 'imap')) return [];
  const imap = config.sources.filter((s) => s.type === 'imap').map((s) => s.name);
  return [{ path: 'report.deliveryCheck.source', message: `${quote(wanted.source)} is not an imap source (imap sources: ${imap.join(', ') || 'none'})` }];
}

export function checkReport(config: Config): ConfigProblem[] {
  return [...(config.report?.smtp ? smtpProblems(config.report.smtp) : []), ...deliveryCheckProblems(config)];
}

/** Every section's rules, in the order of the file. */
export function configProblems(config: Config): ConfigProblem[] {
  return [checkSources, checkRepos, checkApply, checkBuild, checkPublish, checkReport].flatMap((check) => check(config));
}
