import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { gitMessage, type Git, type GitResult } from '../git/git.js';
import type { PatchToApply } from './already-applied.js';
import { failingHunks } from './failing-hunk.js';
import { linkFor } from './settings.js';
import type { AppliedCommit, ApplyFailure } from './types.js';

export type AmOutcome = { ok: true; commits: AppliedCommit[] } | { ok: false; failure: ApplyFailure };

const MESSAGE_ID_TRAILER = /^Message-Id: *<([^>\n]+)>[ \t]*$/gim;

/** The `Message-Id:` trailer git am added: the last such line (the body may quote others). */
function lastMessageIdLine(message: string): RegExpMatchArray | undefined {
  return [...message.matchAll(MESSAGE_ID_TRAILER)].pop();
}

/**
 * Files named in git am / git apply complaints ("patch failed: f:12", "f: does not exist in index",
 * "sha1 information is lacking or useless (f)", merge conflicts), each with the lines git named
 * (the hunk's start in "patch failed"; none: the whole file).
 */
function failureLocations(text: string): Map<string, number[]> {
  const where = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const failed = /^error: patch failed: (.+):(\d+)$/.exec(line);
    const m =
      failed ??
      /^error: (.+): (?:does not exist in index|already exists in (?:index|working directory)|does not match index|patch does not apply|No such file or directory|wrong type)$/.exec(line) ??
      // --3way without the preimage blob in the repo: "could not build fake ancestor" follows
      /^error: sha1 information is lacking or useless \((.+)\)\.?$/.exec(line) ??
      /^CONFLICT \([^)]*\): (?:Merge conflict in )?(.+?)(?: deleted in .*| added in .*)?$/.exec(line);
    if (!m) continue;
    const file = m[1]!.trim();
    const lines = where.get(file) ?? [];
    if (failed) lines.push(Number(failed[2]));
    where.set(file, lines);
  }
  return where;
}

/** The files of {@link failureLocations}, in the order git named them. */
export function filesFromAmOutput(text: string): string[] {
  return [...failureLocations(text).keys()];
}

/** Which of our patches git am stopped at (rebase-apply/next counts from 1 in the order given). */
function stoppedAt(rebaseApply: string, patches: readonly PatchToApply[]): PatchToApply | undefined {
  const next = join(rebaseApply, 'next');
  if (!existsSync(next)) return undefined;
  return patches[Number(readFileSync(next, 'utf8').trim()) - 1];
}

/** The patch git am stopped at, as git split it (`--show-current-patch=diff`), else its archived file. */
async function currentDiff(git: Git, patch: PatchToApply): Promise<string | undefined> {
  const shown = await git.run(['am', '--show-current-patch=diff'], { allowFailure: true });
  if (shown.code === 0 && shown.stdout.includes('diff --git ')) return shown.stdout;
  return existsSync(patch.path) ? readFileSync(patch.path, 'utf8') : undefined;
}

async function describeFailure(git: Git, am: GitResult, patches: readonly PatchToApply[], rebaseApply: string, threeWay: boolean): Promise<ApplyFailure> {
  const patch = stoppedAt(rebaseApply, patches);
  const unmerged = (await git.run(['diff', '--name-only', '--diff-filter=U', '-z'], { allowFailure: true })).stdout.split('\0').filter(Boolean);
  const where = failureLocations(`${am.stdout}\n${am.stderr}`);
  for (const file of unmerged) if (!where.has(file)) where.set(file, []);
  const files = [...new Set([...unmerged, ...where.keys()])];
  const diff = patch && files.length ? await currentDiff(git, patch) : undefined;
  const hunk = diff === undefined ? undefined : failingHunks(diff, where);
  // the patch files git am was given, through the one it stopped at: git am of them on the base stops there again
  const given = patch ? patches.slice(0, patches.indexOf(patch) + 1) : patches;
  return {
    kind: patch ? 'conflict' : 'git',
    ...(patch ? { patch: { number: patch.number, subject: patch.subject, messageId: patch.messageId, file: patch.file } } : {}),
    files,
    message: gitMessage(am),
    ...(hunk !== undefined ? { hunk } : {}),
    reproduce: { threeWay, patches: given.map((p) => p.path) },
  };
}

/** `git am --abort`, then make sure HEAD is exactly where it was. */
async function abortAm(git: Git, before: string, rebaseApply: string): Promise<void> {
  if (existsSync(rebaseApply)) await git.run(['am', '--abort'], { allowFailure: true });
  if ((await git.revParse('HEAD')) !== before) await git.run(['reset', '--quiet', '--hard', before]);
  if ((await git.revParse('HEAD')) !== before) throw new PatchlineError('EGIT', `git am --abort did not restore ${before}`, { input: git.dir });
}

/** Replace each commit's `Message-Id:` trailer by a `Link:` trailer, keeping everything else (author, dates, tree) as it is. */
async function rewriteAsLinks(git: Git, before: string, linkUrl: string): Promise<void> {
  let parent = before;
  for (const sha of await git.revList(`${before}..HEAD`)) {
    const raw = await git.output(['cat-file', 'commit', sha]);
    const split = raw.indexOf('\n\n');
    const header = raw.slice(0, split).replace(/^parent [0-9a-f]+$/m, `parent ${parent}`);
    let message = raw.slice(split + 2);
    const trailer = lastMessageIdLine(message);
    if (trailer) message = message.slice(0, trailer.index) + `Link: ${linkFor(linkUrl, trailer[1]!)}` + message.slice(trailer.index! + trailer[0].length);
    parent = await git.output(['hash-object', '-t', 'commit', '-w', '--stdin'], { input: `${header}\n\n${message}\n` });
  }
  await git.run(['update-ref', '--no-deref', 'HEAD', parent]);
}

/** The commits git am made on top of `before`, each tied to its patch by the recorded Message-ID. */
async function newCommits(git: Git, before: string, patches: readonly PatchToApply[]): Promise<AppliedCommit[]> {
  const out = await git.output(['log', '-z', '--reverse', '--format=%H%x00%s%x00%B', `${before}..HEAD`, '--']);
  const fields = out ? out.split('\0') : [];
  const commits: AppliedCommit[] = [];
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const sha = fields[i]!.trim();
    const id = lastMessageIdLine(fields[i + 2]!)?.[1];
    const patch = patches.find((p) => p.messageId === id) ?? patches[commits.length]!;
    commits.push({ sha, subject: fields[i + 1]!, messageId: patch.messageId, number: patch.number });
  }
  return commits;
}

/** Tick `progress` once per patch as git am moves through them (it counts in rebase-apply/next). */
function followAm(rebaseApply: string, patches: readonly PatchToApply[], progress: Progress): { finish(): void } {
  let done = 0;
  const advance = (to: number) => {
    for (; done < Math.min(to, patches.length); done++) progress.tick(patches[done]!.subject);
  };
  const timer = setInterval(() => {
    try {
      advance(Number(readFileSync(join(rebaseApply, 'next'), 'utf8').trim()) - 1);
    } catch {
      // not started yet, or finished: the next poll or finish() catches up
    }
  }, 250);
  return {
    finish() {
      clearInterval(timer);
      advance(patches.length);
    },
  };
}

/**
 * `git am` the patch files on HEAD, in order. On failure: `git am --abort`, HEAD exactly as it
 * was, and the failing patch, files and git's message returned.
 */
export async function amPatches(git: Git, patches: readonly PatchToApply[], opts: { threeWay: boolean; linkUrl?: string }, progress: Progress): Promise<AmOutcome> {
  const before = await git.revParse('HEAD');
  if (!before) throw new PatchlineError('EGIT', 'no HEAD to apply on', { input: git.dir });
  const args = ['am', '--message-id', '--no-signoff', ...(opts.threeWay ? ['--3way'] : []), '--', ...patches.map((p) => p.path)];
  const rebaseApply = await git.gitPath('rebase-apply');
  const follow = followAm(rebaseApply, patches, progress);
  const am = await git.run(args, { allowFailure: true }).finally(() => follow.finish());
  if (am.code !== 0) {
    const failure = await describeFailure(git, am, patches, rebaseApply, opts.threeWay);
    await abortAm(git, before, rebaseApply);
    return { ok: false, failure };
  }
  const commits = await newCommits(git, before, patches);
  if (!opts.linkUrl) return { ok: true, commits };
  await rewriteAsLinks(git, before, opts.linkUrl);
  const rewritten = await git.revList(`${before}..HEAD`);
  return { ok: true, commits: commits.map((c, i) => ({ ...c, sha: rewritten[i]! })) };
}
