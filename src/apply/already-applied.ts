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

/** patch-id → commit, for the commits reachable from `tip` made since `since`. */
async function commitPatchIds(git: Git, tip: string, depth: number, since: Date | undefined): Promise<Map<string, string>> {
  const range = since ? [`--since=${since.toISOString()}`] : [];
  const log = await git.run(['log', '-p', '--no-merges', '--format=commit %H', `-n${depth}`, ...range, tip, '--']);
  const ids = await git.output(['patch-id', '--stable'], { input: log.stdout });
  const map = new Map<string, string>();
  for (const line of ids.split('\n').filter(Boolean)) {
    const [pid, sha] = line.split(' ');
    if (!map.has(pid!)) map.set(pid!, sha!);
  }
  return map;
}

async function patchIdOfFile(git: Git, path: string): Promise<string | undefined> {
  const out = await git.output(['patch-id', '--stable'], { input: readFileSync(path) });
  return out.split(' ')[0] || undefined;
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
  const trailers = await recordedTrailers(git, tip, depth);
  const found: FoundPatch[] = [];
  const rest: PatchToApply[] = [];
  for (const p of patches) {
    const sha = trailers.get(`id:${p.messageId}`) ?? (opts.linkUrl ? trailers.get(`url:${linkFor(opts.linkUrl, p.messageId)}`) : undefined);
    if (sha) found.push({ number: p.number, messageId: p.messageId, sha, how: 'message-id' });
    else rest.push(p);
  }
  if (rest.length === 0) return found;
  const byPatchId = await commitPatchIds(git, tip, depth, oldestDate(rest));
  if (byPatchId.size === 0) return found;
  for (const p of rest) {
    const pid = await patchIdOfFile(git, p.path);
    const sha = pid ? byPatchId.get(pid) : undefined;
    if (sha) found.push({ number: p.number, messageId: p.messageId, sha, how: 'patch-id' });
  }
  return found.sort((a, b) => a.number - b.number);
}
