import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ApplyFailure } from '../apply/types.js';
import type { BuildRecord } from '../build/types.js';
import type { HarvestResult } from '../harvest/types.js';
import type { SeriesOutcome, StageResult } from './outcome.js';
import { runDate, type RunFiles } from './run-files.js';

/**
 * Template contexts. Templates run in Handlebars strict mode, so every field a template may
 * name is present here (null when there is nothing to say), and a typo in a template is an error.
 */

export const LOG_TAIL_LINES = 50;
/** A larger build.log is named, not attached. */
const MAX_ATTACHED_LOG = 5 * 1024 * 1024;

export interface LogView {
  /** Path of the log file, when it exists on this machine. */
  path: string | null;
  name: string;
  tail: string;
  attached: boolean;
}

function logView(runDir: string, ref: string): LogView {
  const path = resolve(runDir, ref);
  const name = ref.split('/').pop()!;
  if (!existsSync(path)) return { path: null, name, tail: `(log ${ref} not found)`, attached: false };
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  return { path, name, tail: lines.slice(-LOG_TAIL_LINES).join('\n'), attached: statSync(path).size <= MAX_ATTACHED_LOG };
}

function buildView(runDir: string, b: BuildRecord) {
  const build = b.logs.find((l) => /build\.log$/.test(l)) ?? b.logs[0];
  return {
    platform: b.platform,
    builder: b.builder,
    state: b.state,
    nvr: b.nvr ?? null,
    taskId: b.taskId ?? null,
    taskUrl: b.url ?? null,
    message: b.error?.message ?? b.message ?? null,
    log: build ? logView(runDir, build) : null,
  };
}
export type BuildView = ReturnType<typeof buildView>;

const stageView = (s: StageResult) => ({ stage: s.stage, platform: s.platform ?? null, status: s.status, message: s.message ?? null });

export function runView(files: RunFiles) {
  return { id: files.runId, date: runDate(files)?.toISOString() ?? null, dir: files.runDir };
}

/** How many series and patches arrived per repo/branch in this run. */
export function arrivals(harvest: HarvestResult | undefined) {
  const by = new Map<string, { repo: string; branch: string; series: number; patches: number }>();
  for (const s of harvest?.series ?? []) {
    if (s.status !== 'ready') continue;
    const key = `${s.repo}\0${s.branch}`;
    const row = by.get(key) ?? { repo: s.repo, branch: s.branch, series: 0, patches: 0 };
    row.series += 1;
    row.patches += s.patches.length;
    by.set(key, row);
  }
  return [...by.values()].sort((a, b) => a.repo.localeCompare(b.repo) || a.branch.localeCompare(b.branch));
}

/** A word for a POSIX shell: single-quoted, each ' inside as '\''. */
const shellWord = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A shell line a person pastes in a clone of the repo: git am of the archived patch files on the recorded base stops where the apply did. */
export function reproduceCommand(base: string | undefined, r: ApplyFailure['reproduce']): string | null {
  if (!r || r.patches.length === 0 || !base || !/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(base)) return null;
  return `git checkout --detach ${base} && git am${r.threeWay ? ' --3way' : ''} -- ${r.patches.map(shellWord).join(' ')}`;
}

export function seriesView(files: RunFiles, o: SeriesOutcome) {
  const s = o.series;
  const builds = o.builds.map((b) => buildView(files.runDir, b));
  const f = o.apply?.failure;
  return {
    run: runView(files),
    series: {
      id: s.id,
      repo: s.repo,
      branch: s.branch,
      version: s.version,
      total: s.total,
      subject: s.subject ?? s.patches[0]?.subject ?? s.id,
      submitter: s.submitter ? `${s.submitter.name} <${s.submitter.email}>` : null,
      patches: s.patches.map((p) => ({ number: p.number, subject: p.subject, author: `${p.author.name} <${p.author.email}>`, messageId: p.messageId })),
    },
    failed: o.failed ? stageView(o.failed) : null,
    waitsFor: o.waitsFor ?? null,
    held: o.held ?? null,
    tests: o.tests.map((t) => ({
      platform: t.platform,
      state: t.state,
      nvr: t.nvr ?? null,
      message: t.message ?? t.error?.message ?? null,
      checks: t.checks.map((c) => ({ name: c.name, state: c.state, message: c.message ?? null, warnings: c.warnings ?? [], log: c.log ?? null })),
    })),
    stages: o.stages.map(stageView),
    apply: o.apply
      ? {
          status: o.apply.status,
          baseCommit: o.apply.baseCommit ?? null,
          commits: o.apply.commits.map((c) => ({ sha: c.sha, short: c.sha.slice(0, 12), subject: c.subject, number: c.number })),
          failure: f
            ? {
                kind: f.kind,
                patch: f.patch ? { number: f.patch.number, subject: f.patch.subject, file: f.patch.file } : null,
                files: f.files,
                message: f.message,
                hunk: f.hunk ?? null,
                reproduce: reproduceCommand(o.apply.baseCommit, f.reproduce),
              }
            : null,
        }
      : null,
    builds,
    failedBuilds: builds.filter((b) => b.state === 'failed' || b.state === 'canceled'),
    repos: o.repos.map((r) => ({
      platform: r.platform,
      status: r.status,
      url: r.url,
      repoFileUrl: r.repoFileUrl,
      error: r.error?.message ?? null,
      packages: r.packages.filter((p) => p.seriesId === s.id).map((p) => ({ name: p.name, version: p.version, release: p.release, arch: p.arch, url: p.url })),
    })),
    arrivals: arrivals(files.harvest).filter((a) => a.repo === s.repo && a.branch === s.branch),
  };
}
export type SeriesView = ReturnType<typeof seriesView>;

export function harvestView(files: RunFiles) {
  const h = files.harvest;
  return {
    run: runView(files),
    notRun: h ? null : 'the harvest step did not run (no harvest.json in the run dir: it failed before writing it, or was never started)',
    counts: h ? h.counts : null,
    problems: (h?.messages ?? [])
      .filter((m) => m.bucket === 'quarantined' || m.bucket === 'unroutable')
      .map((m) => ({ messageId: m.messageId, subject: m.subject, from: m.from ?? null, bucket: m.bucket, reason: m.reason ?? null, source: m.source })),
    incomplete: (h?.series ?? [])
      .filter((s) => s.status === 'incomplete')
      .map((s) => ({ id: s.id, repo: s.repo, branch: s.branch, subject: s.subject ?? s.id, arrived: s.patches.length, total: s.total, missing: s.missing ?? [] })),
    sourceErrors: (h?.sources ?? []).filter((s) => s.error).map((s) => ({ name: s.name, message: s.error!.message })),
    arrivals: arrivals(h),
  };
}
export type HarvestView = ReturnType<typeof harvestView>;

/** Whether the harvest mail has anything to say. */
export function hasHarvestProblems(v: HarvestView): boolean {
  return v.notRun !== null || v.problems.length + v.incomplete.length + v.sourceErrors.length > 0;
}
