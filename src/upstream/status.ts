/**
 * What the upstream pages (pages.ts) and `patchline upstream status` show, computed once from the
 * build store and the queue the last run wrote: per project and platform where it stands, the
 * timeline of the newest builds, and what the next run will build (or why nothing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError, isErrno } from '../core/errors.js';
import { upstreamDir } from './store.js';
import type { CommitInfo, IdleReason, QueueItem, UpstreamBuildRecord, UpstreamBuildStatus, UpstreamQueue, UpstreamStore } from './types.js';

/** report.html's timeline: the newest builds. */
export const TIMELINE_LENGTH = 300;
/** The queue the last upstream run wrote, in <state>/upstream/. */
export const QUEUE_FILE = 'queue.json';

const DAY = 24 * 3600 * 1000;

export interface ViewOptions {
  now?: Date;
  /** e.g. `https://github.com/{project}/commit/{sha}`. */
  commitUrl?: string;
  /** Only this project. */
  project?: string;
  /** Projects to list even before anything was built or queued for them (the configured ones). */
  projects?: readonly string[];
}

/** A commit with its link (null without a commitUrl). */
export interface LinkedCommit extends CommitInfo {
  url: string | null;
}

export interface TimelineEntry {
  id: string;
  project: string;
  platform: string;
  builtAt: string;
  commit: LinkedCommit;
  distgitSha: string;
  status: UpstreamBuildStatus;
  nvr: string | null;
  /** Relative to the publish root, as the store has them. */
  repoPath: string | null;
  log: string | null;
  /** Attempts before this one for the same (sha, dist-git) pair. */
  retries: number;
  bisect: boolean;
  firstBadCommit: LinkedCommit | null;
  failure: { step: string; signature: string; message: string } | null;
}

export interface ProjectPlatformStatus {
  project: string;
  /** null for a project nothing was built or queued for yet. */
  platform: string | null;
  /** The latest build of a commit the run chose (bisection steps aside); NONE before the first. */
  status: UpstreamBuildStatus | 'NONE';
  nvr: string | null;
  lastBuild: { id: string; builtAt: string; sha: string } | null;
  lastSuccess: { id: string; builtAt: string; sha: string; nvr: string | null } | null;
  /** The first FAILED build after the last success, with the first bad commit when a bisection named it. */
  firstFailure: { id: string; builtAt: string; commit: LinkedCommit; firstBadCommit: LinkedCommit | null; failure: TimelineEntry['failure'] } | null;
  /** Whole days from the last success to `now`; null when it never succeeded. */
  daysSinceSuccess: number | null;
  /** RETRY builds of the latest build's (sha, dist-git) pair (from its `retries`). */
  retries: number;
}

export interface QueueView {
  computedAt: string;
  runId: string;
  items: Array<Omit<QueueItem, 'commit'> & { commit: LinkedCommit }>;
  projects: Array<{ project: string; queued: number; idle: IdleReason | null; detail: string | null }>;
}

export interface UpstreamStatusView {
  generatedAt: string;
  projects: ProjectPlatformStatus[];
  /** Newest first, at most TIMELINE_LENGTH. */
  timeline: TimelineEntry[];
  /** null until an upstream run has written one. */
  queue: QueueView | null;
}

/** `commitUrl` with `{project}` and `{sha}` filled in (a project's `/` kept, as in `org/repo`). */
export function commitLink(commitUrl: string | undefined, project: string, sha: string): string | null {
  if (!commitUrl) return null;
  const p = project.split('/').map(encodeURIComponent).join('/');
  return commitUrl.split('{project}').join(p).split('{sha}').join(encodeURIComponent(sha));
}

function linked(c: CommitInfo, project: string, commitUrl: string | undefined): LinkedCommit {
  // a packaging (dist-git) commit is not the upstream's: commitUrl does not link it
  if (c.packaging) return { sha: c.sha, commitTime: c.commitTime, author: c.author, subject: c.subject, packaging: true, url: null };
  return { sha: c.sha, commitTime: c.commitTime, author: c.author, subject: c.subject, url: commitLink(commitUrl, project, c.sha) };
}

function timelineEntry(r: UpstreamBuildRecord, commitUrl: string | undefined): TimelineEntry {
  return {
    id: r.id,
    project: r.project,
    platform: r.platform,
    builtAt: r.builtAt,
    commit: linked(r.commit, r.project, commitUrl),
    distgitSha: r.distgitSha,
    status: r.status,
    nvr: r.nvr ?? null,
    repoPath: r.repoPath ?? null,
    log: r.log ?? null,
    retries: r.retries,
    bisect: r.bisect === true,
    firstBadCommit: r.firstBadCommit ? linked(r.firstBadCommit, r.project, commitUrl) : null,
    failure: r.failure ?? null,
  };
}

/** One project and platform, folded over its builds newest first until its last success. */
class Standing {
  latest: UpstreamBuildRecord | undefined;
  lastSuccess: UpstreamBuildRecord | undefined;
  /** The oldest FAILED build newer than the last success (so far). */
  failed: UpstreamBuildRecord | undefined;
  firstBad: CommitInfo | undefined;

  /** Older builds change nothing once the last success is met. */
  get done(): boolean {
    return this.lastSuccess !== undefined;
  }

  add(r: UpstreamBuildRecord): void {
    if (this.done) return;
    // the oldest culprit a bisection named since the last success
    if (r.status === 'FAILED' && r.firstBadCommit) this.firstBad = r.firstBadCommit;
    // a bisection builds older commits: it says nothing of where the branch stands
    if (r.bisect) return;
    this.latest ??= r;
    if (r.status === 'SUCCESS') this.lastSuccess = r;
    else if (r.status === 'FAILED') this.failed = r;
  }

  view(project: string, platform: string | null, now: Date, commitUrl: string | undefined): ProjectPlatformStatus {
    const { latest, lastSuccess: ok } = this;
    const ff = ok ? this.failed : undefined;
    return {
      project,
      platform,
      status: latest?.status ?? 'NONE',
      nvr: latest?.nvr ?? null,
      lastBuild: latest ? { id: latest.id, builtAt: latest.builtAt, sha: latest.commit.sha } : null,
      lastSuccess: ok ? { id: ok.id, builtAt: ok.builtAt, sha: ok.commit.sha, nvr: ok.nvr ?? null } : null,
      firstFailure: ff
        ? { id: ff.id, builtAt: ff.builtAt, commit: linked(ff.commit, project, commitUrl), firstBadCommit: this.firstBad ? linked(this.firstBad, project, commitUrl) : null, failure: ff.failure ?? null }
        : null,
      daysSinceSuccess: ok ? Math.max(0, Math.floor((now.getTime() - Date.parse(ok.builtAt)) / DAY)) : null,
      // the attempts before the latest build were RETRYs of the same pair, and so is the latest when it is one
      retries: latest ? latest.retries + (latest.status === 'RETRY' ? 1 : 0) : 0,
    };
  }
}

type Standings = Map<string, Map<string, Standing>>;

function standingOf(standings: Standings, project: string, platform: string): Standing {
  let platforms = standings.get(project);
  if (!platforms) standings.set(project, (platforms = new Map()));
  let s = platforms.get(platform);
  if (!s) platforms.set(platform, (s = new Standing()));
  return s;
}

/** The first window of newest builds; it grows fourfold while a project and platform has not reached its last success. */
const FIRST_WINDOW = 1024;

/**
 * Each project and platform from its newest builds back to its last success: the store parses
 * only the records read (a store of 100,000 builds is mostly history no page shows). `wanted`
 * are the projects known to have builds: the walk goes on until each was met.
 */
function foldNewest(newest: (n: number) => UpstreamBuildRecord[], wanted: ReadonlySet<string>): Standings {
  for (let n = FIRST_WINDOW; ; n *= 4) {
    const standings: Standings = new Map();
    const window = newest(n);
    for (const r of window) standingOf(standings, r.project, r.platform).add(r);
    const settled = [...standings.values()].every((platforms) => [...platforms.values()].every((s) => s.done));
    if (window.length < n || (settled && [...wanted].every((p) => standings.has(p)))) return standings;
  }
}

function queueView(queue: UpstreamQueue, project: string | undefined, commitUrl: string | undefined): QueueView {
  const mine = <T extends { project: string }>(list: T[]): T[] => (project === undefined ? list : list.filter((x) => x.project === project));
  return {
    computedAt: queue.computedAt,
    runId: queue.runId,
    items: mine(queue.queue).map((q) => ({ ...q, commit: linked(q.commit, q.project, commitUrl) })),
    projects: mine(queue.projects).map((p) => ({ project: p.project, queued: p.queued, idle: p.idle ?? null, detail: p.detail ?? null })),
  };
}

/** The view of the pages and of `upstream status`. */
export function upstreamStatusView(store: UpstreamStore, queue: UpstreamQueue | undefined, opts: ViewOptions = {}): UpstreamStatusView {
  const now = opts.now ?? new Date();
  const only = opts.project;
  const ofOne = only === undefined ? undefined : store.ofProject(only);
  const newest = ofOne === undefined ? (n: number) => store.newest(n) : (n: number) => ofOne.slice(-n).reverse();
  // projects with a build processed; of those, only the ones still queued for when a queue is there (the configured ones)
  const queued = queue ? new Set(queue.projects.map((p) => p.project)) : undefined;
  const wanted = new Set(
    store
      .projects()
      .filter((p) => p.lastProcessed !== undefined && (queued === undefined || queued.has(p.project)) && (only === undefined || p.project === only))
      .map((p) => p.project),
  );
  const standings = foldNewest(newest, wanted);
  // projects without builds: the configured ones, those the store or the queue names
  for (const p of [...(opts.projects ?? []), ...store.projects().map((s) => s.project), ...(queued ?? [])]) if (!standings.has(p)) standings.set(p, new Map());
  for (const q of queue?.queue ?? []) standingOf(standings, q.project, q.platform);

  const projects: ProjectPlatformStatus[] = [];
  for (const project of [...standings.keys()].sort()) {
    if (only !== undefined && project !== only) continue;
    const platforms = standings.get(project)!;
    if (platforms.size === 0) projects.push(new Standing().view(project, null, now, opts.commitUrl));
    for (const platform of [...platforms.keys()].sort()) projects.push(platforms.get(platform)!.view(project, platform, now, opts.commitUrl));
  }
  return {
    generatedAt: now.toISOString(),
    projects,
    timeline: newest(TIMELINE_LENGTH).map((r) => timelineEntry(r, opts.commitUrl)),
    queue: queue ? queueView(queue, only, opts.commitUrl) : null,
  };
}

export function queueFileOf(stateDir: string): string {
  return join(upstreamDir(stateDir), QUEUE_FILE);
}

/** The queue the last upstream run wrote; undefined before the first run. */
export function readUpstreamQueue(stateDir: string): UpstreamQueue | undefined {
  const path = queueFileOf(stateDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw new PatchlineError('ERESULT', `cannot read the upstream queue: ${(err as Error).message}`, { input: path });
  }
  try {
    const queue = JSON.parse(text) as UpstreamQueue;
    if (!Array.isArray(queue.queue) || !Array.isArray(queue.projects)) throw new Error('no queue or projects list');
    return queue;
  } catch (err) {
    throw new PatchlineError('ERESULT', `the upstream queue is damaged: ${(err as Error).message} (the next upstream run rewrites it)`, { input: path });
  }
}
