import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { fsyncDir, replaceSymlink } from '../core/fsutil.js';
import { createRepoMetadata } from '../publish/createrepo.js';
import { linkOrCopy } from '../publish/generations.js';
import { repoFileName, repoFileText } from '../publish/repo-files.js';
import { rsyncTree } from '../publish/rsync.js';
import type { UpstreamSettings } from './settings.js';
import type { UpstreamBuildRecord } from './types.js';

/**
 * Per platform, under the publish destination (`<destination>/<platform>/`):
 *   repos/<sha[0:2]>/<sha[2:4]>/<sha>_<distgit[0:8]>/   one build's RPMs + links to every other
 *                                                      project's newest good RPMs, repodata, build.log,
 *                                                      the .repo file, versions.csv
 *   current, consistent                                 symlinks to a repo, switched by rename()
 *   .staging/                                           repos being made (never pointed at; cleaned each run)
 *   logs/                                               logs of builds that made no repo
 * A remote destination is mirrored locally (publish settings' root) and rsynced.
 */
export const LINKS = ['current', 'consistent'] as const;
export type LinkName = (typeof LINKS)[number];
const STAGING = '.staging';

/**
 * Mirror a local dir of the destination onto the remote one (`rel` under it), its parents made
 * there when missing (--mkpath, rsync >= 3.2.3); --delay-updates: no half file is served.
 */
export async function toRemote(s: UpstreamSettings, from: string, rel: string, opts: { delete?: boolean; linkDest?: string } = {}): Promise<void> {
  if (!s.publish.remote) return;
  const rsync = s.publish.rsync;
  // the remote's own path (after host:), for --link-dest
  const remoteDir = s.publish.remote.slice(s.publish.remote.indexOf(':') + 1);
  const linkDest = opts.linkDest ? [`--link-dest=${remoteDir}/${opts.linkDest}`] : [];
  await rsyncTree(from, rel ? `${s.publish.remote}/${rel}` : s.publish.remote, { ...rsync, options: ['--mkpath', ...linkDest, ...(rsync.options ?? [])], delete: opts.delete === true });
}

export function platformRoot(s: UpstreamSettings, platform: string): string {
  return join(s.publish.root, platform);
}

export function repoRel(upstreamSha: string, distgitSha: string): string {
  return `repos/${upstreamSha.slice(0, 2)}/${upstreamSha.slice(2, 4)}/${upstreamSha}_${distgitSha.slice(0, 8)}`;
}

export function repoUrl(s: UpstreamSettings, platform: string, rel: string): string {
  return `${s.publish.baseUrl}/${encodeURIComponent(platform)}/${rel}/`;
}

/** Repos being made when a run died: never pointed at, removed at the start of a run (under the state lock). */
export function cleanStaging(s: UpstreamSettings, platforms: readonly string[]): void {
  for (const p of platforms) rmSync(join(platformRoot(s, p), STAGING), { recursive: true, force: true });
}

export interface VersionsRow {
  project: string;
  upstreamSha: string;
  distgitSha: string;
  nvr: string;
  status: string;
  lastSuccess: string;
}

const csvField = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function versionsCsv(rows: readonly VersionsRow[]): string {
  const head = 'Project,Source Sha,Dist Sha,NVR,Status,Last Success';
  return [head, ...rows.map((r) => [r.project, r.upstreamSha, r.distgitSha, r.nvr, r.status, r.lastSuccess].map(csvField).join(','))].join('\n') + '\n';
}

/**
 * Make one build's repo aside (.staging), complete (RPMs, the other projects' pooled RPMs hard
 * linked, createrepo_c, build.log, .repo, versions.csv), then rename it into place; a remote
 * destination gets it by rsync (--delay-updates) before anything points at it. Returns its path
 * relative to the platform root.
 */
export async function publishRepo(
  s: UpstreamSettings,
  record: Pick<UpstreamBuildRecord, 'project' | 'platform' | 'distgitSha'> & { sha: string },
  build: { rpms: readonly string[]; logFile: string },
  /** The newest successful RPMs of every other project: their repo dir and file names. */
  others: ReadonlyArray<{ dir: string; rpms: readonly string[] }>,
  rows: readonly VersionsRow[],
): Promise<string> {
  const root = platformRoot(s, record.platform);
  const rel = repoRel(record.sha, record.distgitSha);
  const staging = join(root, STAGING, `${basename(rel)}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const f of build.rpms) linkOrCopy(f, join(staging, basename(f)));
  for (const o of others) for (const f of o.rpms) linkOrCopy(join(o.dir, f), join(staging, f));
  linkOrCopy(build.logFile, join(staging, 'build.log'));
  const repoName = `patchline-upstream-${record.platform}`;
  writeFileSync(join(staging, repoFileName(repoName)), repoFileText({ platform: record.platform, repoName, url: repoUrl(s, record.platform, rel), runId: '', publishedAt: '', packages: [] }));
  writeFileSync(join(staging, 'versions.csv'), versionsCsv(rows));
  await createRepoMetadata(staging, { update: false });
  const final = join(root, rel);
  mkdirSync(dirname(final), { recursive: true });
  // a repo left by a run that died before recording it: nothing points at it
  rmSync(final, { recursive: true, force: true });
  renameSync(staging, final);
  fsyncDir(dirname(final));
  rmSync(join(root, STAGING), { recursive: true, force: true }); // only this run's, under the state lock
  // only the new repo; the other projects' RPMs hard linked on the remote from the current repo's (--link-dest)
  const current = linkTarget(s, record.platform, 'current');
  await toRemote(s, final, `${record.platform}/${rel}`, current ? { linkDest: `${record.platform}/${current}` } : {});
  return rel;
}

/** Where `current`/`consistent` of a platform point (relative to the platform root), if anywhere. */
export function linkTarget(s: UpstreamSettings, platform: string, name: LinkName): string | undefined {
  try {
    return readlinkSync(join(platformRoot(s, platform), name));
  } catch {
    return undefined;
  }
}

/**
 * Point `<platform root>/<name>` at a repo: a new symlink under a temp name renamed over the old
 * one (never remove-then-create). A remote destination gets the link by rsync after the repo
 * itself is there: since rsync 3.1.0 the receiver replaces a non-directory with a symlink
 * atomically (a temp name renamed over it; rsync's NEWS), so no ssh command is needed.
 */
export async function switchLink(s: UpstreamSettings, platform: string, name: LinkName, rel: string): Promise<void> {
  const root = platformRoot(s, platform);
  if (linkTarget(s, platform, name) === rel && !s.publish.remote) return;
  replaceSymlink(join(root, name), rel);
  fsyncDir(root);
  if (s.publish.remote) {
    const one = mkdtempSync(join(tmpdir(), 'patchline-link-'));
    try {
      symlinkSync(rel, join(one, name));
      await toRemote(s, one, platform);
    } finally {
      rmSync(one, { recursive: true, force: true });
    }
  }
}

/** Every repo dir of a platform (relative to its root), with its mtime. */
export function listRepos(s: UpstreamSettings, platform: string): Array<{ rel: string; mtimeMs: number }> {
  const base = join(platformRoot(s, platform), 'repos');
  const out: Array<{ rel: string; mtimeMs: number }> = [];
  const dirs = (p: string): string[] => (existsSync(p) ? readdirSync(p).filter((d) => !d.startsWith('.') && lstatSync(join(p, d)).isDirectory()) : []);
  for (const a of dirs(base)) for (const b of dirs(join(base, a))) for (const c of dirs(join(base, a, b))) out.push({ rel: `repos/${a}/${b}/${c}`, mtimeMs: statSync(join(base, a, b, c)).mtimeMs });
  return out;
}

/**
 * Remove repos older than `keep` (days, or beyond the newest `builds`), never one that
 * current/consistent point at nor one in `alsoKept` (each project's newest success: new repos link from it). A repo's files are its own (hard links), so removing one never
 * takes a file from another. Returns the removed repos.
 */
export async function purgeRepos(s: UpstreamSettings, platform: string, alsoKept: readonly string[] = [], now = Date.now()): Promise<string[]> {
  const { days, builds } = s.keep;
  if (days === undefined && builds === undefined) return [];
  const pinned = new Set([...LINKS.map((l) => linkTarget(s, platform, l)).filter((t): t is string => t !== undefined), ...alsoKept]);
  const repos = listRepos(s, platform).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const removed: string[] = [];
  repos.forEach((r, i) => {
    const old = (days !== undefined && now - r.mtimeMs > days * 86_400_000) || (builds !== undefined && i >= builds);
    if (!old || pinned.has(r.rel)) return;
    rmSync(join(platformRoot(s, platform), r.rel), { recursive: true, force: true });
    removed.push(r.rel);
  });
  if (removed.length > 0) {
    await toRemote(s, join(platformRoot(s, platform), 'repos'), `${platform}/repos`, { delete: true });
  }
  return removed;
}
