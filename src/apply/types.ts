/** apply.json (resources/schemas/apply.schema.json). */

export interface AppliedCommit {
  sha: string;
  subject: string;
  messageId: string;
  /** The patch number in its series. */
  number: number;
}

export interface PatchRef {
  number: number;
  subject: string;
  messageId: string;
  file: string;
}

export type FailureKind = 'conflict' | 'refused' | 'push' | 'git';

export interface ApplyFailure {
  kind: FailureKind;
  /** The patch git am stopped at (absent when the failure is not one patch's, e.g. a push). */
  patch?: PatchRef;
  /** Conflicting files, or the files the failing patch could not be applied to. */
  files: string[];
  /** git's own message. */
  message: string;
  /** The part of the failing patch that did not apply: its sections (or the hunks git named) touching `files`. */
  hunk?: string;
  /** Reproduces the failure by hand: `git am` of these archived patch files (absolute paths, through the failing one) on the series' baseCommit. */
  reproduce?: { threeWay: boolean; patches: string[] };
}

export type SeriesApplyStatus = 'applied' | 'already-applied' | 'failed';

export interface SeriesApplyResult {
  id: string;
  repo: string;
  branch: string;
  status: SeriesApplyStatus;
  /** The commit the series was applied on. */
  baseCommit?: string;
  commits: AppliedCommit[];
  /** Patches found already on the branch (by Message-ID or patch-id), not applied again. */
  alreadyApplied: Array<{ number: number; messageId: string; sha: string; how: 'message-id' | 'patch-id' }>;
  failure?: ApplyFailure;
}

export interface BranchApplyResult {
  repo: string;
  branch: string;
  /** The ref pushed to: the branch, or the staging branch from apply.pushPattern. */
  target: string;
  /** The remote tip the series were applied on. */
  baseCommit?: string;
  /** The tip after applying (what was pushed, or would be in a dry run). */
  head?: string;
  pushed: boolean;
  /** The remote moved under the push and the series were applied again on its new tip. */
  retried: boolean;
  error?: { code: string; message: string };
}

export interface ApplyResult {
  runId: string;
  startedAt: string;
  finishedAt: string;
  dryRun: boolean;
  branches: BranchApplyResult[];
  series: SeriesApplyResult[];
}

/** The result of a series that failed before or instead of git am's own failure record. */
export function failedSeries(s: { id: string; repo: string; branch: string }, failure: ApplyFailure, earlier?: Pick<SeriesApplyResult, 'baseCommit' | 'commits' | 'alreadyApplied'>): SeriesApplyResult {
  return {
    id: s.id,
    repo: s.repo,
    branch: s.branch,
    status: 'failed',
    ...(earlier?.baseCommit ? { baseCommit: earlier.baseCommit } : {}),
    commits: earlier?.commits ?? [],
    alreadyApplied: earlier?.alreadyApplied ?? [],
    failure,
  };
}
