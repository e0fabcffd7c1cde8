/**
 * The end state of a project as the world sees it, free of run ids, shas and timestamps, so two
 * projects fed the same mail compare equal: the remote's branches, the live yum repos, the mails
 * the SMTP server received, and the problems that are failures by themselves (a commit or a
 * Message-ID twice, repo metadata that does not match its files, an SRPM rebuilt twice for a platform).
 */
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Git } from '../../../src/git/git.js';
import type { Project } from './project.js';

export interface MailCount {
  subject: string;
  to: string[];
  count: number;
}

export interface EndState {
  /** Every branch of the remote: its commits oldest first, as `subject | Message-Id or Link trailer`. */
  branches: Record<string, string[]>;
  /** Every live repo (a `<publish>/<key>` symlink, publish.layout): its package files, the commit named by subject. */
  repos: Record<string, string[]>;
  /** The mails received, by subject and recipients. */
  mails: MailCount[];
  /** Failures by themselves; [] when all is well. */
  problems: string[];
}

const SEP = '\x1f';
const END = '\x1e';

async function branchCommits(git: Git, ref: string, not: string[] = []): Promise<string[]> {
  const out = await git.output(['log', '--reverse', `--format=%s${SEP}%(trailers:key=Message-Id,key=Link,valueonly,separator=%x2c)${END}`, ref, ...(not.length ? ['--not', ...not] : [])]);
  return out
    .split(END)
    .map((r) => r.trim())
    .filter(Boolean)
    .map((r) => {
      const [subject, trailer] = r.split(SEP);
      return `${subject} | ${trailer?.trim() || '-'}`;
    });
}

function twice<T>(items: T[]): T[] {
  const seen = new Set<T>();
  return [...new Set(items.filter((i) => seen.has(i) || !seen.add(i)))];
}

async function readBranches(remote: string, problems: string[]): Promise<{ branches: Record<string, string[]>; subjectOf: (sha: string) => string | undefined }> {
  const git = new Git(remote);
  const refs = (await git.output(['for-each-ref', '--format=%(refname)'])).split('\n').filter(Boolean).sort();
  const branches: Record<string, string[]> = {};
  const configured = refs.filter((r) => !r.startsWith('refs/heads/patchline/staging/'));
  for (const ref of refs) {
    let name = ref.replace(/^refs\/heads\//, '');
    if (name.startsWith('patchline/staging/')) {
      // a series held by the gate: only its own commits (its base may be older than the branch), named by its last subject
      const own = await branchCommits(git, ref, configured);
      name = `patchline/staging/${own.at(-1)?.split(' | ')[0] ?? '(nothing of its own)'}`;
      branches[name] = own;
    } else branches[name] = await branchCommits(git, ref);
    for (const c of twice(branches[name].map((c) => c.split(' | ')[1]!).filter((t) => t !== '-'))) problems.push(`${name}: the message ${c} is applied twice`);
    for (const c of twice(branches[name].map((c) => c.split(' | ')[0]!))) problems.push(`${name}: the commit "${c}" is there twice`);
  }
  const all = refs.length ? (await git.output(['log', '--all', `--format=%H${SEP}%s`])).split('\n').filter(Boolean) : [];
  const subjects = all.map((l) => l.split(SEP) as [string, string]);
  return { branches, subjectOf: (sha) => subjects.find(([h]) => h.startsWith(sha))?.[1] };
}

/** The package files of the primary metadata of a repo dir. */
function metadataPackages(repoDir: string): string[] | undefined {
  const repomd = join(repoDir, 'repodata', 'repomd.xml');
  if (!existsSync(repomd)) return undefined;
  const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(readFileSync(repomd, 'utf8'))?.[1];
  if (!href || !existsSync(join(repoDir, href))) return undefined;
  const raw = readFileSync(join(repoDir, href));
  const xml = (href.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return [...xml.matchAll(/<location href="([^"]+)"/g)].map((m) => m[1]!.replace(/^Packages\//, '')).sort();
}

function readRepos(publishDir: string, subjectOf: (sha: string) => string | undefined, problems: string[]): Record<string, string[]> {
  const repos: Record<string, string[]> = {};
  if (!existsSync(publishDir) || !statSync(publishDir).isDirectory()) return repos;
  // every live repo at any depth of publish.layout (el9/qemu-master): the symlinks, not the generation dirs they point at
  const live = (dir: string, prefix: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((n) => {
        const st = lstatSync(join(dir, n));
        if (st.isSymbolicLink()) return [`${prefix}${n}`];
        return st.isDirectory() && !existsSync(join(dir, n, 'repodata')) && !existsSync(join(dir, n, 'Packages')) ? live(join(dir, n), `${prefix}${n}/`) : [];
      });
  for (const name of live(publishDir, '')) {
    const dir = join(publishDir, name);
    const files = existsSync(join(dir, 'Packages')) ? readdirSync(join(dir, 'Packages')).sort() : [];
    const meta = metadataPackages(dir);
    if (meta === undefined) problems.push(`${name}: the live repo has no readable primary metadata`);
    else if (JSON.stringify(meta) !== JSON.stringify(files)) problems.push(`${name}: the metadata lists ${meta.length} packages, Packages/ holds ${files.length}`);
    repos[name] = files.map((f) => f.replace(/\.(\d{8}|\d{14})\.git([0-9a-f]{7,})/, (_, _date: string, sha: string) => `.<date>.git[${subjectOf(sha) ?? `unknown commit ${sha}`}]`)).sort();
  }
  return repos;
}

/** A harvest-problems subject names its run: the same problem from two runs is the same mail. */
export const normalizeSubject = (s: string): string => s.replace(/\(run [^)]+\)/g, '(run <id>)').replace(/\s+/g, ' ').trim();

function countMails(mails: Array<{ subject: string; to: string[]; messageId: string }>, problems: string[]): MailCount[] {
  for (const id of twice(mails.map((m) => m.messageId))) problems.push(`the mail ${id} was received twice`);
  const counts = new Map<string, MailCount>();
  for (const m of mails) {
    const subject = normalizeSubject(m.subject);
    const to = [...m.to].sort();
    const key = `${subject}\n${to.join(',')}`;
    const c = counts.get(key) ?? { subject, to, count: 0 };
    c.count++;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => a.subject.localeCompare(b.subject) || a.to.join().localeCompare(b.to.join()));
}

/**
 * Builds that ran to their end, as `<series dir> on <platform>`: every run dir's
 * `build/<series>/<platform>/` holding a binary RPM under RPMS/ (rpmbuild writes them last). Read from the
 * state dir, not from a shim on PATH: the build sandbox gives rpmbuild a PATH of its own.
 */
export function rebuilds(stateDir: string): string[] {
  const runs = join(stateDir, 'runs');
  if (!existsSync(runs)) return [];
  const out: string[] = [];
  for (const run of readdirSync(runs)) {
    const build = join(runs, run, 'build');
    if (!existsSync(build) || !statSync(build).isDirectory()) continue;
    for (const series of readdirSync(build)) {
      for (const platform of readdirSync(join(build, series))) {
        if (platform === 'source') continue;
        const files = readdirSync(join(build, series, platform), { recursive: true, encoding: 'utf8' });
        if (files.some((f) => /(^|\/)RPMS\/.*\.rpm$/.test(f) && !f.endsWith('.src.rpm'))) out.push(`${series} on ${platform}`);
      }
    }
  }
  return out;
}

export async function endState(project: Pick<Project, 'remote' | 'publishDir' | 'stateDir' | 'smtp'>): Promise<EndState> {
  const problems: string[] = [];
  const { branches, subjectOf } = await readBranches(project.remote, problems);
  const repos = readRepos(project.publishDir, subjectOf, problems);
  const mails = countMails(await project.smtp.mails(), problems);
  for (const b of twice(rebuilds(project.stateDir))) problems.push(`${b} was built twice`);
  return { branches, repos, mails, problems };
}

export interface CompareOptions {
  /** Mails not in `expected` that may come once each: notices of the outage itself (e.g. "publishing failed"). */
  notices?: RegExp;
}

/** Every way `actual` differs from `expected`, one short phrase each; `notices` collects the allowed extra mails. */
export function differences(expected: EndState, actual: EndState, opts: CompareOptions = {}, notices: string[] = []): string[] {
  const out: string[] = [...actual.problems];
  const keys = (a: object, b: object) => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const b of keys(expected.branches, actual.branches)) {
    const e = expected.branches[b];
    const a = actual.branches[b];
    if (e === undefined) out.push(`branch ${b}: not expected on the remote`);
    else if (a === undefined) out.push(`branch ${b}: missing on the remote`);
    else if (JSON.stringify(e) !== JSON.stringify(a)) out.push(`branch ${b}: ${a.length - 1} commits on the seed, expected ${e.length - 1}`);
  }
  for (const p of keys(expected.repos, actual.repos)) {
    const e = expected.repos[p] ?? [];
    const a = actual.repos[p];
    if (a === undefined) out.push(`repo ${p}: not published`);
    else if (JSON.stringify(e) !== JSON.stringify(a)) out.push(`repo ${p}: ${a.length} packages, expected ${e.length}`);
  }
  const mailKey = (m: MailCount) => `${m.subject} -> ${m.to.join(',')}`;
  const exp = new Map(expected.mails.map((m) => [mailKey(m), m.count]));
  const act = new Map(actual.mails.map((m) => [mailKey(m), m.count]));
  for (const k of [...new Set([...exp.keys(), ...act.keys()])].sort()) {
    const e = exp.get(k) ?? 0;
    const a = act.get(k) ?? 0;
    const subject = k.split(' -> ')[0]!;
    if (e === 0 && a === 1 && opts.notices?.test(subject)) notices.push(subject);
    else if (e !== a) out.push(`mail "${subject}" received ${a}x, expected ${e}x`);
  }
  return out;
}
