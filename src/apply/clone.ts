import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveFrom } from '../core/config.js';
import { PatchlineError } from '../core/errors.js';
import { Git, gitMessage } from '../git/git.js';

/** A URL git understands as remote (scheme://... or scp-like host:path); anything else is a path. */
function isRemoteUrl(url: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) || /^[^/:]+:(?!\/\/)/.test(url);
}

/** The URL git is given: a file path relative to the config file made absolute. */
export function remoteUrl(url: string, baseDir: string): string {
  return isRemoteUrl(url) ? url : resolveFrom(baseDir, url);
}

export function cloneDir(stateDir: string, repo: string): string {
  return join(stateDir, 'repos', repo);
}

/**
 * The working clone of a repo under the state dir: made once, then fetched each run. What a
 * killed run left half-way is undone first (the clone is a cache; the remote is the truth).
 */
export async function openClone(dir: string, url: string, branches: readonly string[], env: Record<string, string>): Promise<Git> {
  const git = new Git(dir, env);
  // a clone whose `git init` was killed half-way is no repository: start it again
  if (existsSync(join(dir, '.git')) && (await git.run(['rev-parse', '--git-dir'], { allowFailure: true })).code !== 0) rmSync(dir, { recursive: true, force: true });
  if (!existsSync(join(dir, '.git'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await git.run(['init', '--quiet']);
    await git.run(['remote', 'add', 'origin', '--', url]);
    await git.run(['config', 'gc.autoDetach', 'false']);
  } else {
    await recoverClone(git);
    const known = await git.run(['config', '--get', 'remote.origin.url'], { allowFailure: true });
    if (known.code !== 0) await git.run(['remote', 'add', 'origin', '--', url]);
    else if (known.stdout.trim() !== url) await git.run(['remote', 'set-url', 'origin', '--', url]);
  }
  await fetchBranches(git, branches);
  return git;
}

/** Fetch exactly these remote branches (and nothing else) into refs/remotes/origin/. */
export async function fetchBranches(git: Git, branches: readonly string[]): Promise<void> {
  const specs = branches.map((b) => `+refs/heads/${b}:refs/remotes/origin/${b}`);
  // A staging branch may not exist yet: fetch each alone so a missing one does not fail the rest.
  const all = await git.run(['fetch', '--quiet', '--no-tags', 'origin', ...specs], { allowFailure: true });
  if (all.code === 0) return;
  for (const [i, spec] of specs.entries()) {
    const r = await git.run(['fetch', '--quiet', '--no-tags', 'origin', spec], { allowFailure: true });
    if (r.code !== 0 && /couldn't find remote ref/.test(r.stderr)) {
      await git.run(['update-ref', '-d', `refs/remotes/origin/${branches[i]}`]);
    } else if (r.code !== 0) {
      throw new PatchlineError('EGIT', `git fetch origin ${spec}: ${gitMessage(r)}`, { input: git.dir, details: { stderr: r.stderr } });
    }
  }
}

/** Lock files a killed git left (HEAD.lock, index.lock, config.lock, packed-refs.lock, refs/**.lock): the caller holds the clone's lock, so none is live. */
function removeStaleLocks(gitDir: string): void {
  for (const name of readdirSync(gitDir)) if (name.endsWith('.lock')) rmSync(join(gitDir, name), { force: true });
  const refs = join(gitDir, 'refs');
  if (!existsSync(refs)) return;
  for (const rel of readdirSync(refs, { recursive: true, encoding: 'utf8' })) if (rel.endsWith('.lock')) rmSync(join(refs, rel), { force: true });
}

/**
 * Undo whatever a killed run left: an unfinished git am, stale lock files, dead worktrees.
 * Local changes need no reset: every run checks out the remote tip with --force.
 */
export async function recoverClone(git: Git): Promise<void> {
  const gitDir = join(git.dir, '.git'); // the clone is ours: a plain repository, never a worktree
  removeStaleLocks(gitDir);
  const rebaseApply = join(gitDir, 'rebase-apply');
  if (existsSync(rebaseApply)) {
    const r = await git.run(['am', '--abort'], { allowFailure: true });
    if (r.code !== 0) rmSync(rebaseApply, { recursive: true, force: true });
  }
  if (existsSync(join(gitDir, 'worktrees'))) await git.run(['worktree', 'prune']);
}
