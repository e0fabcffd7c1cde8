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

// The patch-id fallback looks at commits made since a little before the oldest author date.
const PATCH_ID_SLACK_MS = 2 * 24 * 3600 * 1000;

/** The `Message-Id: <id>` (git am --message-id) and `Link: <url>` trailers of the commits reachable from `tip`, each to its commit. */
async function recordedTrailers(git: Git, tip: string, depth: number): Promise<Map<string, string>> {
  const out = await git.output(['log', '-z', '--format=%H%x00%B', `-n${depth}`, tip, '--']);
  const found = new Map<string, string>();
  const fields = out.split('\0');
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const sha = fields[i]!.trim();
    for (const m of fields[i + 1]!.matchAll(/^(?:Message-Id: *<([^>\n]+)>|Link: *(\S+))[ \t]*$/gim)) {
      const key = m[1] !== undefined ? `id:${m[1]}` : `url:${m[2]}`;
      if (!found.has(key)) found.set(key, sha);
    }
  }
  return found;
}

/**
 * patch-id → commit for the candidate commits: those reachable from `tip` (within `depth`,
 * since `since`) whose author date or subject equals one of the patches' (git am, cherry-pick
 * and rebase keep both). Only candidates are diffed, so a long branch costs one commit walk.
 */
async function commitPatchIds(git: Git, tip: string, patches: readonly PatchToApply[], depth: number): Promise<Map<string, string>> {
  const since = oldestDate(patches);
  const range = since ? [`--since=${since.toISOString()}`] : [];
  const dates = new Set(patches.map((p) => (p.date ? Math.floor(Date.parse(p.date) / 1000) : NaN)));
  const subjects = new Set(patches.map((p) => p.subject));
  const walk = await git.output(['log', '-z', '--no-merges', '--format=%H %at %s', `-n${depth}`, ...range, tip, '--']);
  const candidates = walk
    .split('\0')
    .filter(Boolean)
    .map((line) => /^(\S+) (\d+) (.*)$/s.exec(line)!)
    .filter((m) => dates.has(Number(m[2])) || subjects.has(m[3]!))
    .map((m) => m[1]!);
  const map = new Map<string, string>();
  if (candidates.length === 0) return map;
  const log = await git.run(['log', '-p', '--no-walk=unsorted', '--format=commit %H', ...candidates, '--']);
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

function oldestDate(patches: readonly PatchToApply[]): Date | undefined {
  const times = patches.map((p) => (p.date ? Date.parse(p.date) : NaN));
  if (times.some(Number.isNaN) || times.length === 0) return undefined;
  return new Date(Math.min(...times) - PATCH_ID_SLACK_MS);
}

/**
 * The patches of a series already on the branch at `tip`: by the recorded Message-ID first,
 * then by `git patch-id --stable` against the recent commits (applied by hand, or upstream).
 */
export async function findAppliedPatches(git: Git, tip: string, patches: readonly PatchToApply[], opts: { depth: number; linkUrl?: string }): Promise<FoundPatch[]> {
  const { depth } = opts;
  // Both walks read only: run them side by side; the patch-id one is used when a Message-ID is missing.
  const [trailers, byPatchId] = await Promise.all([recordedTrailers(git, tip, depth), commitPatchIds(git, tip, patches, depth)]);
  const found: FoundPatch[] = [];
  const rest: PatchToApply[] = [];
  for (const p of patches) {
    const sha = trailers.get(`id:${p.messageId}`) ?? (opts.linkUrl ? trailers.get(`url:${linkFor(opts.linkUrl, p.messageId)}`) : undefined);
    if (sha) found.push({ number: p.number, messageId: p.messageId, sha, how: 'message-id' });
    else rest.push(p);
  }
  if (rest.length === 0) return found;
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
