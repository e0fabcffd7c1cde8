/**
 * The upstream pages (DESIGN.md "Upstream"): report.html (the newest builds), status_report.html
 * (per project and platform), queue.html + queue.json (what the next run builds, or why
 * nothing), and their stylesheet upstream.css, all in one folder. Static HTML rendered by the
 * report's Handlebars loader (escaped), styled by a file beside it, no script: Jenkins' default
 * Content-Security-Policy leaves them as they are.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/fsutil.js';
import { TEMPLATES_DIR } from '../core/paths.js';
import { STYLESHEET as STATUS_STYLESHEET } from '../report/status-page.js';
import { loadTemplates, type Templates } from '../report/templates.js';
import { TIMELINE_LENGTH, upstreamStatusView, type LinkedCommit, type ProjectPlatformStatus, type QueueView, type TimelineEntry, type UpstreamStatusView } from './status.js';
import type { IdleReason, UpstreamQueue, UpstreamStore } from './types.js';

export const PAGES = { report: 'report.html', status: 'status_report.html', queue: 'queue.html', queueJson: 'queue.json', stylesheet: 'upstream.css' } as const;

export interface UpstreamPagesOptions {
  /** e.g. `https://github.com/{project}/commit/{sha}`; commit hashes are plain text without it. */
  commitUrl?: string;
  /**
   * The URL (absolute, or relative to outDir, such as `..`) of the folder that records' repoPath
   * and log are relative to; without it, outDir itself.
   */
  baseUrl?: string;
  /** The templates to render with (report.templatesDir may override the pages'); default: patchline's own. */
  templates?: Templates;
  /** The clock of "days since last success" (tests pin it). */
  now?: Date;
}

const CSS_CLASS: Record<ProjectPlatformStatus['status'], string> = { SUCCESS: 'passed', FAILED: 'failed', RETRY: 'waiting', NONE: 'none' };
/** Idle reasons a person has to act on. */
const IDLE_PROBLEMS: ReadonlySet<IdleReason> = new Set(['clone failed', 'retries exhausted']);

/** `2026-12-01 14:03` (UTC) from any ISO 8601 time. */
function minute(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

const shown = (c: LinkedCommit) => ({ short: c.sha.slice(0, 12), url: c.url, subject: c.subject, author: c.author.name, commitTime: minute(c.commitTime), packaging: c.packaging === true });
const failureText = (f: TimelineEntry['failure']) => (f ? `${f.step}: ${f.message}` : null);

/** A link to a path under the base, each segment escaped. */
function linkUnder(base: string | undefined, path: string, dir = false): string {
  const rel = path.split('/').filter(Boolean).map(encodeURIComponent).join('/') + (dir ? '/' : '');
  return base === undefined || base === '' ? rel : `${base.replace(/\/+$/, '')}/${rel}`;
}

function timelineRow(e: TimelineEntry, baseUrl: string | undefined) {
  return {
    id: e.id,
    builtAt: minute(e.builtAt),
    commitTime: minute(e.commit.commitTime),
    project: e.project,
    platform: e.platform,
    commit: shown(e.commit),
    firstBad: e.firstBadCommit ? shown(e.firstBadCommit) : null,
    bisect: e.bisect,
    status: e.status,
    cssClass: CSS_CLASS[e.status],
    retries: e.retries,
    attempt: e.retries + 1,
    failure: failureText(e.failure),
    nvr: e.nvr,
    repoHref: e.repoPath === null ? null : linkUnder(baseUrl, e.repoPath, true),
    logHref: e.log === null ? null : linkUnder(baseUrl, e.log),
  };
}

function statusRow(p: ProjectPlatformStatus) {
  const ff = p.firstFailure;
  return {
    project: p.project,
    platform: p.platform ?? '',
    status: p.status,
    cssClass: CSS_CLASS[p.status],
    lastBuilt: p.lastBuild ? minute(p.lastBuild.builtAt) : null,
    nvr: p.nvr,
    firstFailure: ff ? { builtAt: minute(ff.builtAt), commit: shown(ff.commit), failure: failureText(ff.failure), firstBad: ff.firstBadCommit ? shown(ff.firstBadCommit) : null } : null,
    daysSinceSuccess: p.daysSinceSuccess,
    retries: p.retries,
  };
}

function queueContext(q: QueueView | null) {
  if (!q) return null;
  return {
    computedAt: minute(q.computedAt),
    runId: q.runId,
    items: q.items.map((i) => ({ project: i.project, platform: i.platform, commit: shown(i.commit), distgit: i.distgitSha.slice(0, 12), why: i.why })),
    projects: q.projects.map((p) => ({ ...p, cssClass: p.idle && IDLE_PROBLEMS.has(p.idle) ? 'idle-problem' : 'none' })),
  };
}

/** The three pages from one view (also what `upstream status --json` prints). */
export function renderUpstreamPages(view: UpstreamStatusView, templates: Templates, baseUrl?: string): { report: string; status: string; queue: string } {
  const common = { stylesheet: PAGES.stylesheet, generated: minute(view.generatedAt) };
  return {
    report: templates.render('upstream-page-report.html.hbs', {
      ...common,
      rows: view.timeline.map((e) => timelineRow(e, baseUrl)),
      shown: view.timeline.length,
      limit: TIMELINE_LENGTH,
    }),
    status: templates.render('upstream-page-status.html.hbs', { ...common, rows: view.projects.map(statusRow) }),
    queue: templates.render('upstream-page-queue.html.hbs', { ...common, queue: queueContext(view.queue) }),
  };
}

/** The mail pipeline's status.css, then the upstream pages' own rules: one file, as the CSP wants no inline style. */
function stylesheet(): string {
  return [STATUS_STYLESHEET, PAGES.stylesheet].map((f) => readFileSync(join(TEMPLATES_DIR, f), 'utf8')).join('\n');
}

/** Writes report.html, status_report.html, queue.html, queue.json and upstream.css into outDir, each file atomically. */
export function writeUpstreamPages(store: UpstreamStore, queue: UpstreamQueue, outDir: string, opts: UpstreamPagesOptions): void {
  const view = upstreamStatusView(store, queue, { now: opts.now, commitUrl: opts.commitUrl });
  const pages = renderUpstreamPages(view, opts.templates ?? loadTemplates(), opts.baseUrl);
  // the stylesheet and the JSON first: a page never refers to a file not there yet
  writeFileAtomic(join(outDir, PAGES.stylesheet), stylesheet());
  writeJsonAtomic(join(outDir, PAGES.queueJson), queue);
  writeFileAtomic(join(outDir, PAGES.queue), pages.queue);
  writeFileAtomic(join(outDir, PAGES.status), pages.status);
  writeFileAtomic(join(outDir, PAGES.report), pages.report);
}
