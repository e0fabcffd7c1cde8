/**
 * Upstream continuous packaging (issue 15, DESIGN.md "Upstream"): the records the engine writes
 * and the pages, `upstream status` and the benchmark read. One build = one (project, platform,
 * upstream sha, dist-git sha).
 */

/** RETRY: the log matched a retry pattern; built again next run (up to maxRetries), never moves nor blocks `consistent`. */
export type UpstreamBuildStatus = 'SUCCESS' | 'FAILED' | 'RETRY';

export interface CommitInfo {
  sha: string;
  /** Committer date, ISO 8601 UTC. */
  commitTime: string;
  author: { name: string; email: string };
  subject: string;
  /** A dist-git commit (the packaging), not an upstream one: a bisection found the packaging change broke the build. */
  packaging?: boolean;
}

export interface UpstreamBuildRecord {
  /** `<project>/<platform>/<upstream sha>_<dist-git sha[0:8]>` (+ `#<attempt>` for a retry's later attempts): unique. */
  id: string;
  project: string;
  platform: string;
  commit: CommitInfo;
  distgitSha: string;
  status: UpstreamBuildStatus;
  /** When the build finished, ISO 8601 UTC. */
  builtAt: string;
  /** The upstream run that made it (its UTC timestamp id). */
  runId: string;
  nvr?: string;
  /** File names of the built RPMs (in the repo dir). */
  rpms: string[];
  /** The build log, relative to the publish root (the destination; pages live there): `<platform>/repos/ab/cd/<sha>_<dg8>/build.log`, or `<platform>/logs/...` for a build without a repo. */
  log?: string;
  /** The repo dir, relative to the publish root (the destination): `<platform>/repos/ab/cd/<sha>_<dg8>`; absent when no repo was made. */
  repoPath?: string;
  /** Attempts made before this one for the same (sha, dist-git) pair (RETRY counts). */
  retries: number;
  /** Built as a step of a bisection (not a commit the run would have built otherwise). */
  bisect?: boolean;
  /** For a FAILED build that was bisected: the first bad commit of the range. */
  firstBadCommit?: CommitInfo;
  /** Why it failed: the failing step (srpm, rpmbuild, nvr-order, publish, ...) and a short stable signature of the error. */
  failure?: { step: string; signature: string; message: string };
  /** The retry pattern the log matched (RETRY, or FAILED once the retries ran out). */
  transient?: string;
  /** Its repo was made while every project's latest build had succeeded (`consistent` points at the newest such). */
  consistent?: boolean;
  /** The mail this record owes (recorded before it is rendered and sent: exactly once across crashes). */
  mail?: { kind: 'failure' | 'recovery'; messageId: string };
}

/** Why a project has nothing to build (queue.json / queue.html). */
export type IdleReason = 'up to date' | 'waiting for retry' | 'clone failed' | 'disabled' | 'retries exhausted';

export interface QueueItem {
  project: string;
  platform: string;
  commit: CommitInfo;
  distgitSha: string;
  /** new commit, dist-git change, retry (n of max), recheck */
  why: string;
}

/** What the next run will build, and per project why nothing is queued; written by every upstream run. */
export interface UpstreamQueue {
  /** When it was computed (ISO 8601 UTC). */
  computedAt: string;
  runId: string;
  queue: QueueItem[];
  projects: Array<{ project: string; queued: number; idle?: IdleReason; detail?: string }>;
}

/** Per project (not per build): where the engine stands; survives runs. */
export interface ProjectState {
  project: string;
  /** The last upstream first-parent commit processed (built, or skipped by --head-only/first run). */
  lastProcessed?: string;
  /** The dist-git commit the last processed build used. */
  lastDistgit?: string;
  /** Set when the last fetch/clone failed. */
  cloneError?: string;
  updatedAt: string;
}

/**
 * The build store: crash-safe, durable when put() returns. The embedded default lives in
 * `<state>/upstream/`; docs/decisions/upstream-store.md says how to move it to a database server.
 */
export interface UpstreamStore {
  put(record: UpstreamBuildRecord): void;
  get(id: string): UpstreamBuildRecord | undefined;
  /** Every record, oldest first (insertion order). */
  all(): UpstreamBuildRecord[];
  /** The newest `n` records, newest first (for report.html: the last 300). */
  newest(n: number): UpstreamBuildRecord[];
  /** Records of one project (every platform), oldest first. */
  ofProject(project: string): UpstreamBuildRecord[];
  projectState(project: string): ProjectState | undefined;
  putProjectState(state: ProjectState): void;
  projects(): ProjectState[];
  close(): void;
}
