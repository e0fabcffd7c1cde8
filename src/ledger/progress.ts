import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Config, PlatformConfig } from '../core/config-types.js';
import type { LedgerEntry, RetryWhen } from './types.js';

/**
 * Where a series stands, derived from its ledger entry alone (nothing about it is stored twice):
 * - `pending`: a step still has work for it (the next run does it);
 * - `waiting`: a stage failed for a cause that heals by itself: the next run retries it;
 * - `held`: applied on its staging ref, waiting for a maintainer's approval (an untrusted sender);
 * - `failed`: a stage failed for a cause that does not heal: it waits for new input or `patchline retry`;
 * - `done`: built and published everywhere it should be;
 * - `superseded`, `incomplete`: harvest's word (a newer version came; parts are missing).
 */
export type SeriesState = 'pending' | 'waiting' | 'held' | 'failed' | 'done' | 'superseded' | 'incomplete';

export interface Standing {
  state: SeriesState;
  /** The stage that is pending, waiting or failed (with its platform for build and publish). */
  stage?: 'apply' | 'approve' | 'build' | 'test' | 'push' | 'publish';
  platforms?: string[];
  /** Why it waits or failed, in a person's words. */
  reason?: string;
}

/** The platforms a series of this repo is built for (none when the repo names no spec). */
export function platformsFor(config: Config, repo: string): PlatformConfig[] {
  if (!config.repos[repo]?.build) return [];
  return config.platforms ?? [{ name: 'local', builder: 'local' }];
}

/** What a build depends on besides the commit: a change re-runs a build that failed for good. */
export function buildInputs(config: Config, repo: string, platform: PlatformConfig): string {
  return createHash('sha256').update(JSON.stringify([platform, config.repos[repo]?.build ?? null, config.build ?? null])).digest('hex').slice(0, 16);
}

/** What the tests depend on besides the packages: a change tests again packages that failed them. */
export function testInputs(config: Config, repo: string, platform: PlatformConfig): string {
  const r = config.repos[repo];
  return createHash('sha256').update(JSON.stringify([platform, r?.tests ?? null, r?.rpmlintrc ?? null, config.test ?? null])).digest('hex').slice(0, 16);
}

/**
 * apply.gate of a repo: `none`, the branch moves at apply (the series is pushed as applied);
 * `build`, it moves once every platform built; `test`, once the packages also passed their checks
 * and tests. Until then the series lives on its staging ref.
 */
export type Gate = 'none' | 'build' | 'test';

export function gateOf(config: Config, repo: string): Gate {
  return config.repos[repo]?.apply?.gate ?? config.apply?.gate ?? 'test';
}

/** Binary RPMs of a build record (source RPMs stay out of yum repos). */
export function binaryRpms(rpms: readonly string[]): string[] {
  return rpms.filter((r) => !r.endsWith('.src.rpm'));
}

/** A built record whose local RPM files are gone (a run dir removed) must be built again before it can be published. */
export function rpmsLost(rpms: readonly string[]): boolean {
  return binaryRpms(rpms).some((r) => !/^https?:\/\//.test(r) && !existsSync(r));
}

const RANK: Record<SeriesState, number> = { pending: 0, waiting: 1, held: 2, failed: 3, done: 4, superseded: 5, incomplete: 6 };

function worst(a: Standing, b: Standing): Standing {
  if (RANK[b.state] < RANK[a.state]) return b;
  if (RANK[b.state] === RANK[a.state] && b.stage === a.stage && a.platforms && b.platforms) return { ...a, platforms: [...a.platforms, ...b.platforms] };
  return a;
}

function failedAs(retry: RetryWhen | undefined): SeriesState {
  return retry === 'auto' ? 'waiting' : 'failed';
}

/** Senders whose series are built without approval (apply.trustedSenders and the repo's). */
function trustList(config: Config, repo: string): string[] {
  return [...(config.apply?.trustedSenders ?? []), ...(config.repos[repo]?.apply?.trustedSenders ?? [])];
}

export function isTrustedAddress(address: string | undefined, trusted: readonly string[]): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  // '*': every sender (a closed list whose members all may build)
  return trusted.some((t) => t === '*' || (t.startsWith('@') ? a.endsWith(t.toLowerCase()) : a === t.toLowerCase()));
}

/**
 * Why a series may be built, or undefined while it waits for a maintainer: approved with
 * `patchline approve`, sent by a trusted sender, or every patch reviewed (Reviewed-by, Acked-by)
 * by a trusted address.
 */
export function approval(e: LedgerEntry, config: Config): string | undefined {
  if (e.approved) return `approved by ${e.approved.by}`;
  const trusted = trustList(config, e.repo);
  const sender = e.series.submitter?.email ?? e.series.patches[0]?.author.email;
  if (isTrustedAddress(sender, trusted)) return `sent by ${sender}, a trusted sender`;
  const reviewers = e.series.patches.map((p) => p.trailers.map((t) => /^(?:Reviewed-by|Acked-by):.*<([^<>\s]+)>\s*$/i.exec(t)?.[1]).filter((m): m is string => isTrustedAddress(m, trusted)));
  if (reviewers.length > 0 && reviewers.every((r) => r.length > 0)) return `reviewed by ${[...new Set(reviewers.flat())].join(', ')}`;
  return undefined;
}

/** The gate of this series: a series from an untrusted sender is never pushed at apply, even with gate none. */
export function seriesGate(e: LedgerEntry, config: Config): Gate {
  const gate = gateOf(config, e.repo);
  return gate === 'none' && approval(e, config) === undefined ? 'build' : gate;
}

/** Build (and with gate test, the test step) on one platform. */
function gateStanding(e: LedgerEntry, config: Config, p: PlatformConfig, gate: Gate): Standing {
  const platform = p.name;
  const b = e.builds[platform];
  if (!b) return { state: 'pending', stage: 'build', platforms: [platform] };
  const r = b.record;
  // a failed build whose platform or spec settings changed since is built again
  if ((r.state === 'failed' || r.state === 'canceled') && b.retry === 'input' && b.inputs !== buildInputs(config, e.repo, p)) return { state: 'pending', stage: 'build', platforms: [platform] };
  if (r.state === 'failed' || r.state === 'canceled') return { state: failedAs(b.retry), stage: 'build', platforms: [platform], reason: r.error?.message ?? r.message ?? r.state };
  if (gate !== 'test' || binaryRpms(r.rpms).length === 0) return { state: 'done' };
  const t = e.tests?.[platform];
  if (!t || (t.result.state === 'failed' && t.inputs !== testInputs(config, e.repo, p))) return { state: 'pending', stage: 'test', platforms: [platform] };
  if (t.result.state === 'passed') return { state: 'done' };
  const failedChecks = t.result.checks.filter((c) => c.state === 'failed').map((c) => `${c.name}${c.message ? `: ${c.message}` : ''}`);
  return { state: failedAs(t.retry), stage: 'test', platforms: [platform], reason: failedChecks.join('; ') || t.result.message || t.result.error?.message || 'the checks could not run' };
}

function publishStanding(e: LedgerEntry, platform: string): Standing {
  const b = e.builds[platform];
  if (!b || binaryRpms(b.record.rpms).length === 0) return { state: 'done' };
  const pub = e.published[platform];
  if (!pub) return { state: 'pending', stage: 'publish', platforms: [platform] };
  if (pub.repo.status === 'failed') return { state: failedAs(pub.retry), stage: 'publish', platforms: [platform], reason: pub.repo.error?.message ?? 'publish failed' };
  return { state: 'done' };
}

export function standing(e: LedgerEntry, config: Config): Standing {
  if (e.closed?.why === 'done') return { state: 'done' };
  if (e.status === 'superseded') return { state: 'superseded', reason: e.series.supersededBy ? `superseded by ${e.series.supersededBy}` : 'superseded by a newer version' };
  if (e.status === 'incomplete') return { state: 'incomplete', reason: `${e.series.patches.length} of ${e.series.total} patches arrived` };
  const a = e.apply;
  if (!a) return { state: 'pending', stage: 'apply' };
  if (a.result.status === 'failed') return { state: failedAs(a.retry), stage: 'apply', reason: `${a.result.failure?.kind ?? 'failed'}: ${a.result.failure?.message ?? ''}`.trim() };
  if (approval(e, config) === undefined) return { state: 'held', stage: 'approve', reason: `applied on ${a.staged ?? 'its staging ref'}, waiting for a maintainer's approval (patchline approve ${e.id})` };
  const gate = seriesGate(e, config);
  const platforms = platformsFor(config, e.repo);
  let s: Standing = { state: 'done' };
  /** Each platform publishes as soon as it is built (the branch holds the series already). */
  const publishAsBuilt = () => {
    for (const p of platforms) {
      const built = gateStanding(e, config, p, 'none');
      s = worst(s, built.state === 'done' ? publishStanding(e, p.name) : built);
    }
    return s;
  };
  // not staged: the branch moved at apply (gate none), or the series was on it already
  if (a.staged === undefined) return publishAsBuilt();
  if (gate !== 'none') {
    for (const p of platforms) s = worst(s, gateStanding(e, config, p, gate));
    if (s.state !== 'done') return s;
  }
  const pushed = e.pushed;
  if (!pushed) return { state: 'pending', stage: 'push' };
  if (!pushed.ok) return { state: failedAs(pushed.retry), stage: 'push', reason: pushed.message ?? 'the push failed' };
  return publishAsBuilt();
}

/** Pending or waiting: a run has something to do for it. */
export function unfinished(s: Standing): boolean {
  return s.state === 'pending' || s.state === 'waiting';
}

/**
 * The outcome the report mails, once: a series is mailed when it reaches `done`, `failed` or `held`,
 * and again only when that outcome changes (or after `patchline retry`). Waiting is not mailed
 * (the next run retries; `patchline status` and the status page say it), so an outage that heals
 * sends the same mails as a run without it.
 */
export function outcomeKey(e: LedgerEntry, s: Standing): string | undefined {
  if (s.state !== 'done' && s.state !== 'failed' && s.state !== 'held') return undefined;
  const what = s.state === 'done' ? 'success' : s.state === 'held' ? 'held' : `failed-${s.stage}${s.platforms ? `-${[...s.platforms].sort().join('+')}` : ''}`;
  return `${what}#${e.attempt ?? 0}`;
}
