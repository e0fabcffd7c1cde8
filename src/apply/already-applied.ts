import { readFileSync } from 'node:fs';
import type { Git } from '../git/git.js';
import { linkFor } from './settings.js';

/** A patch of a series as the apply stage sees it: its file resolved to an absolute path. */
export interface PatchToApply {
  number: number;
  messageId: string;
  subject: string;
  /** Absolute path of the git-am-able file. */
  path: string;
  /** The path as harvest.json records it (relative to the state dir). */
  file: string;
  /** Author date (RFC 2822), when harvest recorded it. */
  date?: string;
}

export interface FoundPatch {
  number: number;
  messageId: string;
  sha: string;
  how: 'message-id' | 'patch-id';
}

// Commits made from a series come after its mails; the slack allows for clocks that disagree.
const PATCH_ID_SLACK_MS = 2 * 24 * 3600 * 1000;

interface RecentCommits {
  /** `id:<message-id>` and `url:<link>` of the recorded trailers → commit. */
  trailers: Map<string, string>;
  /** Commits whose author date or subject equals one of the patches' (git am, cherry-pick and rebase keep both). */
  candidates: string[];
}

/**
 * One walk over the commits reachable from `tip` (at most `depth`, and when the patches' dates
 * are known only those committed since a little before the oldest: a commit made from a mail
 * comes after the mail) collecting the recorded Message-IDs / Links and the patch-id candidates.
 */
async function walkRecentCommits(git: Git, tip: string, patches: readonly PatchToApply[], depth: number): Promise<RecentCommits> {
  const since = oldestDate(patches);
  const range = since ? [`--since=${since.toISOString()}`] : [];
  const dates = new Set(patches.map((p) => (p.date ? Math.floor(Date.parse(p.date) / 1000) : NaN)));
  const subjects = new Set(patches.map((p) => p.subject));
  const out = await git.output(['log', '-z', '--no-merges', '--format=%H%x00%at%x00%s%x00%B', `-n${depth}`, ...range, tip, '--']);
  const fields = out.split('\0');
  const trailers = new Map<string, string>();
  const candidates: string[] = [];
  for (let i = 0; i + 3 < fields.length; i += 4) {
    const sha = fields[i]!.trim();
    if (dates.has(Number(fields[i + 1])) || subjects.has(fields[i + 2]!)) candidates.push(sha);
    for (const m of fields[i + 3]!.matchAll(/^(?:Message-Id: *<([^>\n]+)>|Link: *(\S+))[ \t]*$/gim)) {
      const key = m[1] !== undefined ? `id:${m[1]}` : `url:${m[2]}`;
      if (!trailers.has(key)) trailers.set(key, sha);
    }
  }
  return { trailers, candidates };
}

/** patch-id → commit for these commits (only they are diffed). */
async function commitPatchIds(git: Git, commits: string[]): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  if (commits.length === 0) return map;
  const log = await git.run(['log', '-p', '--no-walk=unsorted', '--format=commit %H', ...commits, '--']);
  for (const [pid, sha] of await patchIdPairs(git, log.stdout)) if (!map.has(pid)) map.set(pid, sha);
  return map;
}

/** `git patch-id --stable` of a stream of `commit <sha>`-separated diffs: [patch-id, sha] pairs. */
async function patchIdPairs(git: Git, input: string | Buffer): Promise<Array<[string, string]>> {
  const ids = await git.output(['patch-id', '--stable'], { input });
  return ids.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]);
}

/** The patch-id of each patch file, from one `git patch-id` run (each file tagged with a fake commit name holding its index). */
async function patchIdsOfFiles(git: Git, texts: Buffer[]): Promise<Map<number, string>> {
  const tag = (i: number) => i.toString(16).padStart(40, '0');
  const withoutFromLine = (t: Buffer) => (/^From [0-9a-f]{40} /.test(t.subarray(0, 46).toString('latin1')) ? t.subarray(t.indexOf(10) + 1) : t);
  const input = Buffer.concat(texts.flatMap((t, i) => [Buffer.from(`commit ${tag(i)}\n`), withoutFromLine(t), Buffer.from('\n')]));
  const byIndex = new Map<number, string>();
  for (const [pid, sha] of await patchIdPairs(git, input)) byIndex.set(parseInt(sha, 16), pid);
  return byIndex;
}

/** The start of the search window; none when a date is missing or in the future (a mail's Date: is only a claim). */
function oldestDate(patches: readonly PatchToApply[]): Date | undefined {
  const times = patches.map((p) => (p.date ? Date.parse(p.date) : NaN));
  if (times.some((t) => Number.isNaN(t) || t > Date.now()) || times.length === 0) return undefined;
  return new Date(Math.min(...times) - PATCH_ID_SLACK_MS);
}

/**
 * The patches of a series already on the branch at `tip`: by the recorded Message-ID first,
 * then by `git patch-id --stable` against the recent commits (applied by hand, or upstream).
 */
export async function findAppliedPatches(git: Git, tip: string, patches: readonly PatchToApply[], opts: { depth: number; linkUrl?: string }): Promise<FoundPatch[]> {
  const { trailers, candidates } = await walkRecentCommits(git, tip, patches, opts.depth);
  const found: FoundPatch[] = [];
  const rest: PatchToApply[] = [];
  for (const p of patches) {
    const sha = trailers.get(`id:${p.messageId}`) ?? (opts.linkUrl ? trailers.get(`url:${linkFor(opts.linkUrl, p.messageId)}`) : undefined);
    if (sha) found.push({ number: p.number, messageId: p.messageId, sha, how: 'message-id' });
    else rest.push(p);
  }
  if (rest.length === 0) return found;
  const byPatchId = await commitPatchIds(git, candidates);
  if (byPatchId.size === 0) return found;
  const texts = rest.map((p) => readFileSync(p.path));
  const ofFiles = await patchIdsOfFiles(git, texts);
  for (const [i, p] of rest.entries()) {
    const pid = ofFiles.get(i);
    const sha = pid ? byPatchId.get(pid) : undefined;
    if (sha) found.push({ number: p.number, messageId: p.messageId, sha, how: 'patch-id' });
  }
  return found.sort((a, b) => a.number - b.number);
}
