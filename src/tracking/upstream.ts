/**
 * The upstream side of a scan: a bare mirror per upstream URL under <state>/tracking/git/upstream/,
 * the first-parent commits after the last processed one, and each as a `git format-patch` file
 * (a merge as one patch against its first parent).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import { Git, type GitResult, type GitRunOptions } from '../git/git.js';
import { acquireRunLock } from '../run/lock.js';
import { trackingDir } from './store.js';
import { timed } from './timing.js';

/** A Git whose every command counts as time inside git (timing.ts). */
export class TimedGit extends Git {
  override run(args: readonly string[], opts: GitRunOptions = {}): Promise<GitResult> {
    return timed('git', () => super.run(args, opts));
  }
}

const urlKey = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 16);

/**
 * Ref lock files a killed fetch left in the mirror (git refuses to update a ref whose .lock
 * exists). Only called under the mirror's own lock, when no fetch of ours runs in it.
 */
function removeStaleGitLocks(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of ['packed-refs.lock', 'shallow.lock', 'config.lock', 'HEAD.lock', 'index.lock']) rmSync(join(dir, name), { force: true });
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.lock')) rmSync(join(d, e.name), { force: true });
    }
  };
  walk(join(dir, 'refs'));
}

/** One first-parent commit of the range, oldest first. */
export interface RangeCommit {
  sha: string;
  parents: string[];
  subject: string;
}

/** Fetch `branch` (and the tags, for Source0) of `url` into its mirror; returns the mirror and the branch head. */
export async function fetchUpstream(stateDir: string, url: string, branch: string): Promise<{ git: TimedGit; head: string }> {
  const dir = join(trackingDir(stateDir), 'git', 'upstream', `${urlKey(url)}.git`);
  // items sharing an upstream share its mirror: one fetch into it at a time
  const lock = await acquireRunLock(`${dir}.lock`, { waitMs: 600_000, staleMs: 3_600_000, command: `fetch ${url}`, pollMs: 50 });
  try {
    const git = new TimedGit(dir);
    removeStaleGitLocks(dir);
    if (!existsSync(join(dir, 'HEAD'))) {
      mkdirSync(dir, { recursive: true });
      await git.run(['init', '--quiet', '--bare']);
    }
    const r = await git.run(['fetch', '--quiet', '--no-write-fetch-head', '--force', '--', url, `+refs/heads/${branch}:refs/heads/${branch}`, '+refs/tags/*:refs/tags/*'], { allowFailure: true });
    if (r.code !== 0) {
      const why = `${r.stderr}`.trim().split('\n').filter(Boolean).slice(-2).join('; ');
      throw new PatchlineError('ETRACK', `cannot fetch ${branch} of the upstream ${url}: ${why || `git exit ${r.code}`}`, { input: url });
    }
    const head = await git.revParse(`refs/heads/${branch}`);
    if (!head) throw new PatchlineError('ETRACK', `the upstream ${url} has no branch ${branch}`, { input: url });
    return { git, head };
  } finally {
    lock.release();
  }
}

/** First-parent commits after `from` up to `to`, oldest first; `from` must be an ancestor of `to`. */
export async function firstParentRange(git: Git, from: string, to: string): Promise<RangeCommit[]> {
  const known = await git.revParse(from);
  if (!known) throw new PatchlineError('ETRACK', `the last processed commit ${from} is not in the upstream any more (history rewritten?): set lastCommit again with patchline track add`, { input: from });
  const anc = await git.run(['merge-base', '--is-ancestor', from, to], { allowFailure: true });
  if (anc.code !== 0) throw new PatchlineError('ETRACK', `the last processed commit ${from} is not an ancestor of the upstream head ${to} (history rewritten?): set lastCommit again with patchline track add`, { input: from });
  const out = await git.output(['log', '--first-parent', '--reverse', '--format=%H %P%x00%s', `${from}..${to}`, '--']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [ids = '', subject = ''] = line.split('\0');
      const [sha = '', ...parents] = ids.trim().split(' ');
      return { sha, parents, subject };
    });
}

/** A patch made from one upstream commit. */
export interface UpstreamPatch {
  commit: RangeCommit;
  /** `NNNN-<slug>.patch`, numbered from `start`. */
  name: string;
  /** The format-patch file (in the work dir). */
  path: string;
  /** For a merge: the commits it brings (`<short sha> <subject>`). */
  brings?: string[];
}

/**
 * A merge as one commit with the merge's tree on its first parent, its author, date and message,
 * and a paragraph saying what it is: `git format-patch` of it is the merge's own change.
 */
async function flattenMerge(git: Git, c: RangeCommit): Promise<{ sha: string; brings: string[] }> {
  const [p1, ...others] = c.parents;
  const brings = (await git.output(['log', '--format=%h %s', ...others, `^${p1!}`, '--'])).split('\n').filter(Boolean);
  const meta = await git.output(['log', '-1', '--date=raw', '--format=%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd%x00%B', c.sha]);
  const [an = '', ae = '', ad = '', cn = '', ce = '', cd = '', ...rest] = meta.split('\0');
  const message = `${rest.join('\0').replace(/\s+$/, '')}\n\n[patchline: this patch is the merge ${c.sha}\ntaken against its first parent ${p1!}; it brings ${brings.length} commit${brings.length === 1 ? '' : 's'}:\n${brings.map((b) => `  ${b}`).join('\n')}]\n`;
  const env = { GIT_AUTHOR_NAME: an, GIT_AUTHOR_EMAIL: ae, GIT_AUTHOR_DATE: ad, GIT_COMMITTER_NAME: cn, GIT_COMMITTER_EMAIL: ce, GIT_COMMITTER_DATE: cd };
  const sha = await git.output(['commit-tree', `${c.sha}^{tree}`, '-p', p1!, '-F', '-'], { input: message, env });
  return { sha, brings };
}

/**
 * `git format-patch` of each commit (author, date and message kept) into `outDir`, numbered from
 * `start`; commits that change nothing (an empty commit, a merge taking nothing) give no patch.
 */
export async function makePatches(git: Git, commits: RangeCommit[], outDir: string, start: number): Promise<{ patches: UpstreamPatch[]; empty: RangeCommit[] }> {
  mkdirSync(outDir, { recursive: true });
  const patches: UpstreamPatch[] = [];
  const empty: RangeCommit[] = [];
  let n = start;
  for (const c of commits) {
    let sha = c.sha;
    let brings: string[] | undefined;
    if (c.parents.length > 1) ({ sha, brings } = await flattenMerge(git, c));
    const out = await git.output(['format-patch', '-1', '--no-signature', '--start-number', String(n), '-o', outDir, sha]);
    const path = out.split('\n').filter(Boolean).pop();
    if (!path || !/^diff --git /m.test(readFileSync(path, 'utf8'))) {
      empty.push(c);
      continue;
    }
    const name = path.split('/').pop()!;
    patches.push({ commit: c, name, path, ...(brings ? { brings } : {}) });
    n++;
  }
  return { patches, empty };
}
