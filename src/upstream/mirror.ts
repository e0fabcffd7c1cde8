import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Git } from '../git/git.js';
import type { CommitInfo } from './types.js';

/**
 * Bare mirrors of a project's upstream and dist-git under <state>/upstream/git/<project>/: cloned
 * once (into a temp name, renamed when complete), fetched every run.
 */
export async function syncMirror(dir: string, url: string): Promise<Git> {
  if (!existsSync(join(dir, 'HEAD'))) {
    const tmp = `${dir}.clone-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    await new Git(dirname(dir)).run(['clone', '--mirror', '--quiet', '--', url, tmp]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } else {
    const git = new Git(dir);
    await git.run(['remote', 'set-url', 'origin', url]);
    await git.run(['fetch', '--prune', '--quiet', 'origin']);
  }
  return new Git(dir);
}

export function mirrorDirs(upstreamDir: string, project: string): { upstream: string; distgit: string } {
  const base = join(upstreamDir, 'git', project);
  return { upstream: join(base, 'upstream.git'), distgit: join(base, 'distgit.git') };
}

const FORMAT = '%H%x00%cI%x00%an%x00%ae%x00%s';

function parseCommit(line: string): CommitInfo {
  const [sha = '', time = '', name = '', email = '', subject = ''] = line.split('\0');
  return { sha, commitTime: new Date(time).toISOString(), author: { name, email }, subject };
}

export async function commitInfo(git: Git, sha: string): Promise<CommitInfo> {
  return parseCommit(await git.output(['show', '-s', `--format=${FORMAT}`, sha, '--']));
}

/** First-parent commits of `range` (`a..b`), oldest first by graph order (never by date). */
export async function firstParentCommits(git: Git, range: string): Promise<CommitInfo[]> {
  const out = await git.output(['log', '--first-parent', '--reverse', `--format=${FORMAT}`, range, '--']);
  return out ? out.split('\n').map(parseCommit) : [];
}

/** Whether `a` is an ancestor of (or equal to) `b`. */
export async function isAncestor(git: Git, a: string, b: string): Promise<boolean> {
  return (await git.run(['merge-base', '--is-ancestor', a, b], { allowFailure: true })).code === 0;
}
