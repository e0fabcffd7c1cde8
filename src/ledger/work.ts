import { resolve } from 'node:path';
import type { Config, PlatformConfig } from '../core/config-types.js';
import type { SeriesApplyResult } from '../apply/types.js';
import type { BuildRecord } from '../build/types.js';
import type { SeriesResult } from '../harvest/types.js';
import type { PublishedRepo } from '../publish/types.js';
import type { TestRecord } from '../pkgtest/types.js';
import { approval, binaryRpms, buildInputs, platformsFor, rpmsLost, seriesGate, standing, testInputs } from './progress.js';
import type { Ledger } from './store.js';
import type { LedgerEntry, PushMark, RetryWhen } from './types.js';

/** --repo/--branch of the step. */
export interface Only {
  repo?: string;
  branch?: string;
}

function matches(e: { repo: string; branch: string }, only: Only): boolean {
  return (only.repo === undefined || e.repo === only.repo) && (only.branch === undefined || e.branch === only.branch);
}

/* ---------------------------------------------------------------- harvest */

/** Record what a harvest found; an entry changes only when harvest's view of the series did. */
export function recordHarvest(ledger: Ledger, series: readonly SeriesResult[], run: string, at: string): number {
  const changed: LedgerEntry[] = [];
  for (const s of series) {
    const old = ledger.get(s.id);
    if (old && old.status === s.status && JSON.stringify(old.series) === JSON.stringify(s)) continue;
    const entry: LedgerEntry = old
      ? { ...old, status: s.status, series: s, version: s.version }
      : { id: s.id, repo: s.repo, branch: s.branch, version: s.version, status: s.status, harvested: { run, at }, series: s, builds: {}, published: {} };
    // a superseded version is never taken up again; a done one that harvest saw change (a late review trailer) stays closed
    if (s.status === 'superseded' && !entry.closed) entry.closed = { run, at, why: 'superseded' };
    changed.push(entry);
  }
  ledger.put(changed);
  return changed.length;
}

/* ---------------------------------------------------------------- apply */

export interface ApplyWork {
  /** Series to apply, in the order the ledger holds them (apply orders them per branch). */
  series: SeriesResult[];
  /** Series that failed on a conflict: tried again only when their branch moved from this tip. */
  conflictTips: Map<string, string>;
}

export function applyWork(ledger: Ledger, only: Only): ApplyWork {
  const series: SeriesResult[] = [];
  const conflictTips = new Map<string, string>();
  for (const e of ledger.all()) {
    if (e.status !== 'ready' || e.closed || !matches(e, only)) continue;
    const a = e.apply;
    if (a && a.result.status !== 'failed') continue;
    if (a?.retry === 'input') {
      const kind = a.result.failure?.kind;
      // a conflict is taken again only if its branch moved (apply looks); a refusal is checked again
      // (the config may have changed: the same refusal records no change); anything else waits
      if (kind === 'conflict' && a.tip) conflictTips.set(e.id, a.tip);
      else if (kind !== 'refused') continue;
    }
    series.push(e.series);
  }
  return { series, conflictTips };
}

/** A conflict or a refusal does not heal by itself; a push or git failure (remote unreachable, rejected push) does. */
export function applyRetry(r: SeriesApplyResult): RetryWhen | undefined {
  if (r.status !== 'failed') return undefined;
  return r.failure?.kind === 'conflict' || r.failure?.kind === 'refused' ? 'input' : 'auto';
}

/** Where a gated series was put: its staging ref, the branch it goes to, its place in the stack. */
export interface Staging {
  staged: string;
  target: string;
  order: number;
}

export function recordApply(ledger: Ledger, results: readonly SeriesApplyResult[], tips: ReadonlyMap<string, string | undefined>, staging: ReadonlyMap<string, Staging>, run: string, at: string): void {
  const changed: LedgerEntry[] = [];
  for (const r of results) {
    const e = ledger.get(r.id);
    if (!e) continue;
    const retry = applyRetry(r);
    const tip = tips.get(`${r.repo}\0${r.branch}`);
    const staged = staging.get(r.id);
    if (e.apply && JSON.stringify(e.apply.result) === JSON.stringify(r) && e.apply.retry === retry && e.apply.staged === staged?.staged) continue;
    // a new apply outcome makes the earlier builds, tests, push and publications of the series void
    const next: LedgerEntry = { ...e, apply: { run, at, result: r, ...(retry ? { retry } : {}), ...(tip ? { tip } : {}), ...(staged ?? {}) }, builds: {}, published: {} };
    delete next.tests;
    delete next.pushed;
    changed.push(next);
  }
  ledger.put(changed);
}

/** The branch moved under a gated series before its gate passed: it is applied again on the new tip (and built and tested again). */
export function restage(ledger: Ledger, id: string, why: string, run: string, at: string): void {
  const e = ledger.get(id);
  if (!e) return;
  const next: LedgerEntry = { ...e, builds: {}, published: {}, pushed: { run, at, ok: false, retry: 'auto', message: why } };
  delete next.apply;
  delete next.tests;
  ledger.put([next]);
}

/**
 * Gated series are stacked on their branch in the order they were applied: a series above one
 * that failed its gate carries that failure in its commit, so its own builds and tests say nothing
 * about it. It is applied again on the branch's tip (without the failed series) instead of being
 * recorded as failed. Returns the ids restaged.
 */
export function restageAboveFailures(ledger: Ledger, config: Config, run: string, at: string): string[] {
  const stacks = new Map<string, LedgerEntry[]>();
  for (const e of ledger.all()) {
    if (e.closed || !e.apply?.staged || e.pushed?.ok) continue;
    // one apply step's series of one branch form a stack (its `at` tells the rounds of one run apart)
    const key = `${e.repo}\0${e.apply.target ?? e.branch}\0${e.apply.run}\0${e.apply.at}`;
    stacks.set(key, [...(stacks.get(key) ?? []), e]);
  }
  const restaged: string[] = [];
  for (const stack of stacks.values()) {
    stack.sort((x, y) => (x.apply!.order ?? 0) - (y.apply!.order ?? 0));
    const broken = stack.findIndex((e) => {
      const s = standing(e, config);
      return s.state === 'failed' && (s.stage === 'build' || s.stage === 'test');
    });
    if (broken < 0) continue;
    for (const e of stack.slice(broken + 1)) {
      restage(ledger, e.id, `${stack[broken]!.id}, applied under it, failed its gate`, run, at);
      restaged.push(e.id);
    }
  }
  return restaged;
}

/**
 * patchline itself moved a branch (promoted gated series) from `from` to `to`: a series that
 * conflicted on `from` waits on as before. Only a move by someone else (or a new version) is news.
 */
export function advanceConflictTips(ledger: Ledger, repo: string, from: string, to: string): void {
  const changed: LedgerEntry[] = [];
  for (const e of ledger.all()) {
    if (e.repo === repo && e.apply?.tip === from && e.apply.result.failure?.kind === 'conflict') changed.push({ ...e, apply: { ...e.apply, tip: to } });
  }
  ledger.put(changed);
}

/** Record the push of a gated series to its branch (or why it failed). */
export function recordPush(ledger: Ledger, id: string, mark: Omit<PushMark, 'run' | 'at'>, run: string, at: string): void {
  const e = ledger.get(id);
  if (e) ledger.put([{ ...e, pushed: { run, at, ...mark } }]);
}

/* ---------------------------------------------------------------- build */

export interface BuildWorkItem {
  id: string;
  repo: string;
  branch: string;
  /** The series' last commit. */
  commit: string;
  messageIds: string[];
  /** The platforms to build it for now. */
  platforms: string[];
}

/** The commit to build of an applied series: its last, and the message-ids of its patches in order. */
export function builtCommit(a: SeriesApplyResult): { commit: string; messageIds: string[] } | undefined {
  if (a.status === 'failed') return undefined;
  const all = [...a.alreadyApplied, ...a.commits].sort((x, y) => x.number - y.number);
  const last = a.commits.at(-1)?.sha ?? [...a.alreadyApplied].sort((x, y) => x.number - y.number).at(-1)?.sha;
  return last === undefined ? undefined : { commit: last, messageIds: all.map((c) => c.messageId) };
}

function needsBuild(e: LedgerEntry, config: Config, platform: PlatformConfig): boolean {
  const b = e.builds[platform.name];
  if (!b) return true;
  const r = b.record;
  if (r.state === 'failed' || r.state === 'canceled') return b.retry === 'auto' || b.inputs !== buildInputs(config, e.repo, platform);
  // built, but its RPMs are gone before they were published (a removed run dir): build again
  return e.published[platform.name]?.repo.status !== 'published' && rpmsLost(r.rpms);
}

export function buildWork(ledger: Ledger, config: Config, only: Only): BuildWorkItem[] {
  const out: BuildWorkItem[] = [];
  for (const e of ledger.all()) {
    if (e.status !== 'ready' || e.closed || !e.apply || !matches(e, only) || approval(e, config) === undefined) continue;
    const c = builtCommit(e.apply.result);
    if (!c) continue;
    const platforms = platformsFor(config, e.repo).filter((p) => needsBuild(e, config, p)).map((p) => p.name);
    if (platforms.length > 0) out.push({ id: e.id, repo: e.repo, branch: e.branch, ...c, platforms });
  }
  return out;
}

/**
 * A failing %build or a failed Koji task waits for new input; a build that never ran to its end
 * (canceled, Koji unreachable, a tool missing) is tried again by the next run.
 */
export function buildRetry(r: BuildRecord): RetryWhen | undefined {
  if (r.state !== 'failed' && r.state !== 'canceled') return undefined;
  if (r.state === 'canceled') return 'auto';
  const code = r.error?.code;
  return code === 'EKOJI' || code === 'ETOOL' || code === 'EINTERNAL' ? 'auto' : 'input';
}

/** Paths in a build record made absolute: the ledger outlives the run dir's relative names. */
export function absoluteRecord(r: BuildRecord, runDir: string): BuildRecord {
  const abs = (p: string) => (/^https?:\/\//.test(p) ? p : resolve(runDir, p));
  return { ...r, rpms: r.rpms.map(abs), logs: r.logs.map(abs), ...(r.srpm ? { srpm: abs(r.srpm) } : {}) };
}

/** Record one finished build at once (a crash after it never builds it again). */
export function recordBuild(ledger: Ledger, config: Config, r: BuildRecord, runDir: string, run: string, at: string): void {
  const e = ledger.get(r.seriesId);
  if (!e) return;
  const platform = platformsFor(config, e.repo).find((p) => p.name === r.platform);
  const retry = buildRetry(r);
  const published = { ...e.published };
  delete published[r.platform]; // a new build publishes again
  ledger.put([{ ...e, builds: { ...e.builds, [r.platform]: { run, at, record: absoluteRecord(r, runDir), ...(retry ? { retry } : {}), inputs: platform ? buildInputs(config, e.repo, platform) : '' } }, published }]);
}

/* ---------------------------------------------------------------- test */

/** Build records (absolute paths) of platforms whose packages are built and not tested yet (apply.gate test). */
export function testWork(ledger: Ledger, config: Config, only: Only): BuildRecord[] {
  const out: BuildRecord[] = [];
  for (const e of ledger.all()) {
    if (e.status !== 'ready' || e.closed || !matches(e, only) || seriesGate(e, config) !== 'test' || approval(e, config) === undefined) continue;
    for (const p of platformsFor(config, e.repo)) {
      const b = e.builds[p.name];
      if (!b || (b.record.state !== 'built' && b.record.state !== 'skipped') || binaryRpms(b.record.rpms).length === 0 || rpmsLost(b.record.rpms)) continue;
      const t = e.tests?.[p.name];
      if (t && !(t.result.state === 'error' || t.inputs !== testInputs(config, e.repo, p))) continue;
      out.push(b.record);
    }
  }
  return out;
}

/** Record one platform's checks and tests at once (a crash after it never tests it again). */
export function recordTest(ledger: Ledger, config: Config, r: TestRecord, run: string, at: string): void {
  const e = ledger.get(r.seriesId);
  if (!e) return;
  const platform = platformsFor(config, e.repo).find((p) => p.name === r.platform);
  const retry: RetryWhen | undefined = r.state === 'passed' ? undefined : r.state === 'error' ? 'auto' : 'input';
  const published = { ...e.published };
  delete published[r.platform];
  ledger.put([{ ...e, tests: { ...e.tests, [r.platform]: { run, at, result: r, ...(retry ? { retry } : {}), inputs: platform ? testInputs(config, e.repo, platform) : '' } }, published }]);
}

/* ---------------------------------------------------------------- publish */

/** Build records (absolute paths) whose binary RPMs are not published yet on their platform. */
export function publishWork(ledger: Ledger, config: Config, only: Only): BuildRecord[] {
  const out: BuildRecord[] = [];
  for (const e of ledger.all()) {
    if (e.status !== 'ready' || e.closed || !matches(e, only)) continue;
    // a gated series is published once its branch moved to it (the packages are what the branch holds)
    if (e.apply?.staged !== undefined && !e.pushed?.ok) continue;
    for (const p of platformsFor(config, e.repo)) {
      const b = e.builds[p.name];
      if (!b || (b.record.state !== 'built' && b.record.state !== 'skipped') || binaryRpms(b.record.rpms).length === 0) continue;
      if (e.published[p.name]?.repo.status === 'published') continue;
      if (rpmsLost(b.record.rpms)) continue; // build takes it again first
      // the branch names the repo it goes to (publish.layout); records of older ledgers lack it
      out.push({ ...b.record, repo: e.repo, branch: e.branch });
    }
  }
  return out;
}

/** Record a repo's publication (a platform, for one repo/branch) for every series whose RPMs it took. */
export function recordPublish(ledger: Ledger, repo: PublishedRepo, seriesIds: readonly string[], run: string, at: string): void {
  const changed: LedgerEntry[] = [];
  for (const id of new Set(seriesIds)) {
    const e = ledger.get(id);
    if (!e) continue;
    const own: PublishedRepo = { ...repo, packages: repo.packages.filter((p) => p.seriesId === id), added: [] };
    changed.push({ ...e, published: { ...e.published, [repo.platform]: { run, at, repo: own, ...(repo.status === 'failed' ? { retry: 'auto' as const } : {}) } } });
  }
  ledger.put(changed);
}

/* ---------------------------------------------------------------- retry */

/**
 * `patchline retry <id>`: forget the failures of the series (apply, builds, publications) so the
 * next run takes it again, and count the attempt so its new outcome is mailed even if it is the same.
 */
export function requestRetry(ledger: Ledger, config: Config, id: string): LedgerEntry | undefined {
  const e = ledger.get(id);
  if (!e) return undefined;
  const s = standing(e, config);
  const next: LedgerEntry = { ...e, attempt: (e.attempt ?? 0) + 1 };
  delete next.closed;
  if (e.apply?.result.status === 'failed') {
    delete next.apply;
    next.builds = {};
    next.published = {};
  } else {
    next.builds = Object.fromEntries(Object.entries(e.builds).filter(([, b]) => b.record.state === 'built' || b.record.state === 'skipped'));
    next.published = Object.fromEntries(Object.entries(e.published).filter(([, p]) => p.repo.status === 'published'));
    if (e.tests) next.tests = Object.fromEntries(Object.entries(e.tests).filter(([, t]) => t.result.state === 'passed'));
    if (e.pushed && !e.pushed.ok) delete next.pushed;
  }
  if (s.state === 'failed' || s.state === 'waiting') delete next.reported;
  ledger.put([next]);
  return next;
}

/** `patchline approve <id>`: a maintainer lets a series from an untrusted sender be built. */
export function approveSeries(ledger: Ledger, id: string, by: string): void {
  const e = ledger.get(id);
  if (e) ledger.put([{ ...e, approved: { by, at: new Date().toISOString() } }]);
}
