/**
 * The series ledger (DESIGN.md "The series ledger"): one record per series version, keyed by the
 * series id, saying how far the series got through the pipeline, which run did each stage, and
 * why it stopped. It is the truth every step takes its work from; run dirs stay the per-run record.
 */
import type { SeriesApplyResult } from '../apply/types.js';
import type { BuildRecord } from '../build/types.js';
import type { SeriesResult, SeriesStatus } from '../harvest/types.js';
import type { PublishedRepo } from '../publish/types.js';
import type { TestRecord } from '../pkgtest/types.js';

/**
 * What a failure waits for: `auto`, a cause that heals by itself (network, disk, SMTP, Koji down):
 * retried by the next run; `input`, one that does not (a conflict, a failing %build): retried only
 * when its inputs change (a new series version, a moved branch, a changed config) or on `patchline retry`.
 */
export type RetryWhen = 'auto' | 'input';

export interface StageMark {
  /** The run that did this stage. */
  run: string;
  at: string;
}

export interface ApplyMark extends StageMark {
  result: SeriesApplyResult;
  /** For a failure: what it waits for. */
  retry?: RetryWhen;
  /** The remote tip the series was applied on (a conflict is retried when the branch moved). */
  tip?: string;
  /** Gated: the staging ref of the remote holding the series until its gate passes. */
  staged?: string;
  /** The branch the series goes to when its gate passes (the configured branch, or pushPattern's). */
  target?: string;
  /** Its place among the series applied in the same run on the same branch (they are stacked in this order). */
  order?: number;
}

/** The branch fast-forwarded to the series once its gate passed (gated series only). */
export interface PushMark extends StageMark {
  ok: boolean;
  head?: string;
  retry?: RetryWhen;
  message?: string;
}

export interface BuildMark extends StageMark {
  /** The build record, with rpms/logs/srpm made absolute (they outlive the run dir's relative names). */
  record: BuildRecord;
  retry?: RetryWhen;
  /** Fingerprint of what the build depended on besides the commit (platform and repo build config). */
  inputs: string;
}

export interface TestMark extends StageMark {
  /** The checks, with their logs made absolute. */
  result: TestRecord;
  retry?: RetryWhen;
  /** Fingerprint of the tests' settings (repo tests, platform): a change tests failed packages again. */
  inputs: string;
}

export interface PublishMark extends StageMark {
  /** The repo that serves the series' packages on this platform (packages: this series' only). */
  repo: PublishedRepo;
  retry?: RetryWhen;
}

export interface ReportMark extends StageMark {
  /** The outcome mailed (see outcomeKey): the same outcome is never mailed twice. */
  key: string;
  messageId: string;
  /** The run dir whose outbox holds the mail. */
  runDir: string;
}

export interface LedgerEntry {
  id: string;
  repo: string;
  branch: string;
  version: number;
  /** The harvest status, as the newest harvest saw it. */
  status: SeriesStatus;
  harvested: StageMark;
  /** The series as harvest.json listed it: what apply and the report read. */
  series: SeriesResult;
  apply?: ApplyMark;
  builds: Record<string, BuildMark>;
  /** Package checks and tests per platform (apply.gate test). */
  tests?: Record<string, TestMark>;
  pushed?: PushMark;
  published: Record<string, PublishMark>;
  /** `patchline approve`: a maintainer let a series from an untrusted sender be built. */
  approved?: { by: string; at: string };
  reported?: ReportMark;
  /**
   * Nothing more will happen to the series: published and its success mailed, or superseded by a
   * newer version. Closed entries leave the journal (store.ts) and are never taken up again, not
   * even for a platform added later; `patchline retry` reopens one.
   */
  closed?: StageMark & { why: 'done' | 'superseded' };
  /** How many times `patchline retry` was asked for: part of the report key, so a retried outcome is mailed again. */
  attempt?: number;
}
