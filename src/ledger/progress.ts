import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Config, PlatformConfig } from '../core/config-types.js';
import type { LedgerEntry, RetryWhen } from './types.js';

/**
 * Where a series stands, derived from its ledger entry alone (nothing about it is stored twice):
 * - `pending`: a step still has work for it (the next run does it);
 * - `waiting`: a stage failed for a cause that heals by itself: the next run retries it;
 * - `failed`: a stage failed for a cause that does not heal: it waits for new input or `patchline retry`;
 * - `done`: built and published everywhere it should be;
 * - `superseded`, `incomplete`: harvest's word (a newer version came; parts are missing).
 */
export type SeriesState = 'pending' | 'waiting' | 'failed' | 'done' | 'superseded' | 'incomplete';

export interface Standing {
  state: SeriesState;
  /** The stage that is pending, waiting or failed (with its platform for build and publish). */
  stage?: 'apply' | 'build' | 'publish';
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

/** Binary RPMs of a build record (source RPMs stay out of yum repos). */
export function binaryRpms(rpms: readonly string[]): string[] {
  return rpms.filter((r) => !r.endsWith('.src.rpm'));
}

/** A built record whose local RPM files are gone (a run dir removed) must be built again before it can be published. */
export function rpmsLost(rpms: readonly string[]): boolean {
  return binaryRpms(rpms).some((r) => !/^https?:\/\//.test(r) && !existsSync(r));
}

const RANK: Record<SeriesState, number> = { pending: 0, waiting: 1, failed: 2, done: 3, superseded: 4, incomplete: 5 };

function worst(a: Standing, b: Standing): Standing {
  if (RANK[b.state] < RANK[a.state]) return b;
  if (RANK[b.state] === RANK[a.state] && b.stage === a.stage && a.platforms && b.platforms) return { ...a, platforms: [...a.platforms, ...b.platforms] };
  return a;
}

function failedAs(retry: RetryWhen | undefined): SeriesState {
  return retry === 'auto' ? 'waiting' : 'failed';
}

/** Where the series stands on one platform. */
function platformStanding(e: LedgerEntry, config: Config, p: PlatformConfig): Standing {
  const platform = p.name;
  const b = e.builds[platform];
  if (!b) return { state: 'pending', stage: 'build', platforms: [platform] };
  const r = b.record;
  // a failed build whose platform or spec settings changed since is built again
  if ((r.state === 'failed' || r.state === 'canceled') && b.retry === 'input' && b.inputs !== buildInputs(config, e.repo, p)) return { state: 'pending', stage: 'build', platforms: [platform] };
  if (r.state === 'failed' || r.state === 'canceled') return { state: failedAs(b.retry), stage: 'build', platforms: [platform], reason: r.error?.message ?? r.message ?? r.state };
  if (binaryRpms(r.rpms).length === 0) return { state: 'done' };
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
  let s: Standing = { state: 'done' };
  for (const p of platformsFor(config, e.repo)) s = worst(s, platformStanding(e, config, p));
  return s;
}

/** Pending or waiting: a run has something to do for it. */
export function unfinished(s: Standing): boolean {
  return s.state === 'pending' || s.state === 'waiting';
}

/**
 * The outcome the report mails, once: a series is mailed when it reaches `done` or `failed`,
 * and again only when that outcome changes (or after `patchline retry`). Waiting is not mailed
 * (the next run retries; `patchline status` and the status page say it), so an outage that heals
 * sends the same mails as a run without it.
 */
export function outcomeKey(e: LedgerEntry, s: Standing): string | undefined {
  if (s.state !== 'done' && s.state !== 'failed') return undefined;
  const what = s.state === 'done' ? 'success' : `failed-${s.stage}${s.platforms ? `-${[...s.platforms].sort().join('+')}` : ''}`;
  return `${what}#${e.attempt ?? 0}`;
}
