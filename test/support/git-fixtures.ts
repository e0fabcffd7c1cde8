import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { Git } from '../../src/git/git.js';
import { historyBase, writeHistory } from '../../bench/git-history.js';

/** Fixed identities and dates so commits are reproducible. */
export const FIXTURE_ENV = {
  GIT_AUTHOR_NAME: 'Fixture Author',
  GIT_AUTHOR_EMAIL: 'author@example.org',
  GIT_COMMITTER_NAME: 'Fixture Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.org',
  GIT_AUTHOR_DATE: '2023-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2023-01-01T00:00:00Z',
};

export function tempDir(prefix = 'patchline-apply-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A file of a fixture tree: text, bytes, or content with a mode. */
export type FixtureFile = string | Buffer | { content: string | Buffer; executable: true };

export function writeTree(dir: string, files: Record<string, FixtureFile>): void {
  for (const [path, file] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    const content = typeof file === 'string' || Buffer.isBuffer(file) ? file : file.content;
    writeFileSync(full, content);
    if (typeof file === 'object' && !Buffer.isBuffer(file)) chmodSync(full, 0o755);
  }
}

/** A work repo with one commit of `files` on `branch`, and its bare remote (`remote`). */
export async function makeRemote(root: string, files: Record<string, FixtureFile>, branch = 'master'): Promise<{ work: Git; remote: string }> {
  const remote = join(root, 'remote.git');
  const workDir = join(root, 'work');
  mkdirSync(workDir, { recursive: true });
  await new Git(root).run(['init', '--quiet', '--bare', remote]);
  const work = new Git(workDir, FIXTURE_ENV);
  await work.run(['init', '--quiet', '-b', branch]);
  writeTree(workDir, files);
  await work.run(['add', '-A']);
  await work.run(['commit', '--quiet', '-m', 'base']);
  await work.run(['remote', 'add', 'origin', remote]);
  await work.run(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
  return { work, remote };
}

/** Commit `files` (and delete `remove`) in the work repo. */
export async function commitFiles(work: Git, message: string, files: Record<string, FixtureFile>, remove: string[] = []): Promise<string> {
  writeTree(work.dir, files);
  for (const path of remove) await work.run(['rm', '--quiet', '--', path]);
  await work.run(['add', '-A']);
  await work.run(['commit', '--quiet', '-m', message]);
  return (await work.revParse('HEAD'))!;
}

/** `git format-patch --thread` of `range` into `outDir`: git-am-able files with Message-Id headers. */
export async function formatPatches(work: Git, range: string, outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const out = await work.output(['format-patch', '--thread=shallow', '--zero-commit', '-o', outDir, range]);
  return out.split('\n').filter(Boolean);
}

/** The Message-Id a format-patch file carries. */
export function messageIdOf(patchText: string): string {
  const m = /^Message-Id: <([^>]+)>$/im.exec(patchText);
  if (!m) throw new Error('patch file has no Message-Id');
  return m[1]!;
}

export interface FixtureSeries {
  id: string;
  repo: string;
  branch: string;
  firstArrival?: string;
  patches: Array<{ file: string; messageId: string; subject: string; author?: { name: string; email: string }; date?: string; trailers?: string[] }>;
}

/** A harvest.json (valid against its schema) holding these ready series. */
export function harvestJson(series: FixtureSeries[]): unknown {
  const now = '2023-02-10T00:00:00.000Z';
  return {
    runId: 'fixture',
    startedAt: now,
    finishedAt: now,
    sources: [],
    messages: [],
    series: series.map((s) => ({
      id: s.id,
      repo: s.repo,
      branch: s.branch,
      version: 1,
      total: s.patches.length,
      status: 'ready',
      ...(s.firstArrival ? { firstArrival: s.firstArrival } : {}),
      patches: s.patches.map((p, i) => ({
        number: i + 1,
        messageId: p.messageId,
        file: p.file,
        author: p.author ?? { name: FIXTURE_ENV.GIT_AUTHOR_NAME, email: FIXTURE_ENV.GIT_AUTHOR_EMAIL },
        ...(p.date ? { date: p.date } : {}),
        subject: p.subject,
        trailers: p.trailers ?? [],
      })),
    })),
    counts: { seen: 0, patch: 0, cover: 0, comment: 0, 'pull-request': 0, other: 0, duplicate: 0, unroutable: 0, quarantined: 0 },
  };
}

/** A patchline.yaml in `dir` (sources are the harvest's business: one unused mbox). */
/**
 * A patchline.yaml for the apply tests: the branch moves at apply (gate none) and the fixture
 * senders are trusted, unless the test says otherwise (the gate and the sender policy have their own tests).
 */
export function writeConfig(dir: string, repos: Record<string, unknown>, apply: Record<string, unknown> = {}): string {
  const path = join(dir, 'patchline.yaml');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, stringify({ stateDir: 'state', sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }], repos, apply: { gate: 'none', trustedSenders: ['@example.org', '@example.com'], ...apply } }));
  return path;
}

/** Copy patch files into `<state>/archive/<day>/<repo>/<branch>/<series>/` as the harvest does; paths relative to the state dir. */
export function archivePatches(stateDir: string, where: { day?: string; repo: string; branch: string; series: string }, files: Array<{ name: string; content: string | Buffer }>): string[] {
  const rel = join('archive', where.day ?? '2023-02-10', where.repo, where.branch, where.series);
  mkdirSync(join(stateDir, rel), { recursive: true });
  return files.map((f) => {
    writeFileSync(join(stateDir, rel, f.name), f.content);
    return join(rel, f.name);
  });
}

/** A project: config in `root`, state in `root/state`, a run dir holding harvest.json. */
export function makeProject(root: string, repos: Record<string, unknown>, apply: Record<string, unknown> = {}): { config: string; stateDir: string; runDir: string } {
  const config = writeConfig(root, repos, apply);
  const stateDir = join(root, 'state');
  const runDir = join(stateDir, 'runs', '20230210T000000Z');
  mkdirSync(runDir, { recursive: true });
  return { config, stateDir, runDir };
}

export function writeHarvest(runDir: string, series: FixtureSeries[]): void {
  writeFileSync(join(runDir, 'harvest.json'), JSON.stringify(harvestJson(series), null, 2));
}

/** `count` commits on top of the work repo's HEAD, each editing one line of one of 50 C files (bench/git-history.ts). */
export async function fastHistory(work: Git, count: number): Promise<string> {
  const tip = await writeHistory(work, { count, files: 50, branch: 'master', from: await work.revParse('HEAD') });
  await work.run(['reset', '--quiet', '--hard', tip]);
  return tip;
}

/** The 50-file base `fastHistory` edits. */
export function fastHistoryBase(): Record<string, string> {
  return historyBase(50);
}
