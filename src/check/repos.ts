/**
 * Every configured branch exists on its remote, and the spec a build reads from the repo
 * (`build.spec`) is in the branch's tip. Read from the working clone when it already holds that
 * tip, else from a shallow fetch (commits and trees only) into a temporary repo: nothing of the
 * state dir changes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig, RepoConfig } from '../core/config.js';
import { cloneDir, remoteUrl } from '../apply/clone.js';
import { gitMessage, runGit } from '../git/git.js';
import type { CheckProblem } from './problem.js';

/** Branch → tip commit on the remote; a branch missing there is absent from the map. */
async function remoteTips(url: string, branches: readonly string[], cwd: string): Promise<Map<string, string> | string> {
  const r = await runGit(cwd, ['ls-remote', '--heads', '--', url, ...branches.map((b) => `refs/heads/${b}`)], { allowFailure: true });
  if (r.code !== 0) return gitMessage(r) || `git ls-remote exit ${r.code}`;
  const tips = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^([0-9a-f]{40,64})\trefs\/heads\/(.+)$/.exec(line);
    if (m) tips.set(m[2]!, m[1]!);
  }
  return tips;
}

/** Whether `path` is in commit `sha`, read where the commit is at hand. */
async function hasFile(repoDir: string, sha: string, path: string): Promise<boolean> {
  const r = await runGit(repoDir, ['ls-tree', '--name-only', sha, '--', path], { allowFailure: true });
  return r.code === 0 && r.stdout.split('\n').includes(path);
}

async function hasCommit(repoDir: string, sha: string): Promise<boolean> {
  return existsSync(join(repoDir, '.git')) && (await runGit(repoDir, ['cat-file', '-e', `${sha}^{commit}`], { allowFailure: true })).code === 0;
}

/** A temporary bare repo with the tips of `branches` fetched shallow, without file contents where the server allows. */
async function shallowFetch(url: string, branches: string[], scratch: string): Promise<string | undefined> {
  await runGit(scratch, ['init', '--quiet', '--bare']);
  const specs = branches.map((b) => `+refs/heads/${b}:refs/heads/${b}`);
  const r = await runGit(scratch, ['fetch', '--quiet', '--no-tags', '--depth', '1', '--filter=blob:none', '--', url, ...specs], { allowFailure: true });
  return r.code === 0 ? undefined : gitMessage(r) || `git fetch exit ${r.code}`;
}

async function repoProblems(loaded: LoadedConfig, name: string, repo: RepoConfig): Promise<CheckProblem[]> {
  const url = remoteUrl(repo.url, loaded.baseDir);
  const scratch = mkdtempSync(join(tmpdir(), 'patchline-check-'));
  try {
    const tips = await remoteTips(url, repo.branches, scratch);
    if (typeof tips === 'string') return [{ where: `repos.${name}.url`, message: `cannot read ${url}: ${tips}` }];
    const problems: CheckProblem[] = repo.branches
      .filter((b) => !tips.has(b))
      .map((b) => ({ where: `repos.${name}.branches.${repo.branches.indexOf(b)}`, message: `branch ${b} is not on ${url}` }));
    const spec = repo.build?.spec;
    if (spec === undefined || tips.size === 0) return problems;
    const clone = cloneDir(loaded.stateDir, name);
    const fromClone = new Map<string, boolean>();
    for (const [branch, sha] of tips) if (await hasCommit(clone, sha)) fromClone.set(branch, await hasFile(clone, sha, spec));
    const rest = [...tips.keys()].filter((b) => !fromClone.has(b));
    if (rest.length > 0) {
      const failed = await shallowFetch(url, rest, scratch);
      if (failed) return [...problems, { where: `repos.${name}.url`, message: `cannot fetch ${rest.join(', ')} from ${url}: ${failed}` }];
      for (const branch of rest) fromClone.set(branch, await hasFile(scratch, tips.get(branch)!, spec));
    }
    for (const branch of repo.branches) {
      if (fromClone.get(branch) === false) problems.push({ where: `repos.${name}.build.spec`, message: `${spec} is not in branch ${branch} of ${url} (at ${tips.get(branch)!.slice(0, 12)})` });
    }
    return problems;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export async function repoSpecProblems(loaded: LoadedConfig): Promise<CheckProblem[]> {
  const all = await Promise.all(Object.entries(loaded.config.repos).map(([name, repo]) => repoProblems(loaded, name, repo)));
  return all.flat();
}
