import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveFrom, type LoadedConfig } from '../core/config.js';
import { PatchlineError, asPatchlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_FROM } from '../report/compose.js';
import { loadTemplates, type Templates } from '../report/templates.js';
import { acquireRunLock } from '../run/lock.js';
import { readSpec } from '../rpm/spec.js';
import { checkPrep, clonePackaging, highestPatchFileNumber, parseIdentity, writePackagingCommits } from './packaging.js';
import { composeReview } from './review-mail.js';
import { MailReviewChannel, type ReviewChannel } from './review-channel.js';
import { killPoint } from './kill-point.js';
import { appliesAutomatically } from './spec-edit.js';
import { ItemStore, ReviewStore, fileSlug, keyOf, trackingDir, type ItemKey } from './store.js';
import { timed } from './timing.js';
import type { ReviewRecord, TrackingItem } from './types.js';
import { TimedGit, fetchUpstream, firstParentRange, makePatches } from './upstream.js';

export interface ScanSummary {
  /** One line per item scanned: what happened. */
  items: Array<{ repo: string; branch: string; outcome: 'reviewed' | 'up to date' | 'failed' | 'disabled' | 'busy'; reviewId?: string; message?: string }>;
}

type ItemOutcome = ScanSummary['items'][number];

/** `<repo>/<branch>/<from sha[0:12]>..<to sha[0:12]>`: one review per upstream range, ever. */
export const reviewIdOf = (key: ItemKey, from: string, to: string): string => `${key.repo}/${key.branch}/${from.slice(0, 12)}..${to.slice(0, 12)}`;



/** `patch-tracking/<branch>/<UTC timestamp>` */
function trackingBranchName(branch: string, at: Date): string {
  return `patch-tracking/${branch}/${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

/** What one scan needs from the config, resolved once. */
interface ScanEnv {
  loaded: LoadedConfig;
  log: Logger;
  items: ItemStore;
  reviews: ReviewStore;
  from: string;
  to: string[];
  /** Where reviews go: the list (the one channel built; review-channel.ts says how a forge would fit). */
  channel: ReviewChannel;
  templates?: Templates;
}

function scanEnv(loaded: LoadedConfig, log: Logger): ScanEnv {
  const tracking = loaded.config.tracking;
  if (!tracking) throw new PatchlineError('ECONFIG', 'tracking: missing in the config: `tracking.reviewTo` names the list the review series go to', { input: loaded.file });
  const report = loaded.config.report ?? {};
  return {
    loaded,
    log,
    items: new ItemStore(loaded.stateDir),
    reviews: new ReviewStore(loaded.stateDir),
    from: tracking.reviewFrom ?? report.smtp?.from ?? DEFAULT_FROM,
    to: tracking.reviewTo,
    channel: new MailReviewChannel(loaded, log),
  };
}

/** `git push <url> --delete <branch>` when the branch is there; a missing one is fine. */
async function deleteRemoteBranch(git: TimedGit, url: string, branch: string): Promise<void> {
  const seen = await git.run(['ls-remote', '--heads', '--', url, `refs/heads/${branch}`], { allowFailure: true });
  if (seen.code === 0 && seen.stdout.trim() === '') return;
  const r = await git.run(['push', '--quiet', '--', url, `:refs/heads/${branch}`], { allowFailure: true });
  if (r.code !== 0 && !/remote ref does not exist|unable to delete/.test(r.stderr)) {
    throw new PatchlineError('EPUSH', `cannot delete the branch ${branch} of ${url}: ${r.stderr.trim().split('\n').pop() ?? ''}`, { input: branch });
  }
}

/** Undo an attempt that mailed nothing: its branch (remote), its outbox, its record. The range is redone. */
async function abandon(env: ScanEnv, git: TimedGit, item: TrackingItem, rec: ReviewRecord): Promise<void> {
  await deleteRemoteBranch(git, item.packagingUrl, rec.trackingBranch);
  env.channel.discard(rec.id);
  await env.reviews.drop(rec.id);
}

/** lastCommit := range end, unless someone changed it meanwhile (track add with a new lastCommit). */
async function advance(env: ScanEnv, item: TrackingItem, rec: ReviewRecord): Promise<void> {
  await env.items.modify(item, (i) => {
    if (i.lastCommit === rec.range.from) i.lastCommit = rec.range.to;
  });
}

/** Send what the review's outbox has not sent; mailed => lastCommit advances. */
async function deliver(env: ScanEnv, git: TimedGit, item: TrackingItem, rec: ReviewRecord): Promise<ItemOutcome> {
  const key = { repo: item.repo, branch: item.branch };
  const d = await env.channel.deliver(rec);
  const { total, sent } = d;
  if (sent === total) {
    killPoint('sent');
    const done = await env.reviews.put({ ...rec, state: 'mailed', mails: { total, sent } });
    killPoint('mailed');
    await advance(env, item, done);
    return { ...key, outcome: 'reviewed', reviewId: rec.id, message: `${total - 1} patches mailed to ${env.to.join(', ')}, pushed as ${rec.trackingBranch}` };
  }
  if (!env.channel.begun(rec.id)) {
    await abandon(env, git, item, rec);
    return { ...key, outcome: 'failed', reviewId: rec.id, message: `the review mail was not sent (${d.error ?? 'no answer'}): branch ${rec.trackingBranch} deleted, the next scan redoes ${rec.range.from.slice(0, 12)}..${rec.range.to.slice(0, 12)}` };
  }
  await env.reviews.put({ ...rec, mails: { total, sent } });
  const why = d.unknown > 0 ? `${d.unknown} mails cut off with their delivery unknown (report.deliveryCheck settles them)` : `${total - sent} mails not sent yet`;
  return { ...key, outcome: 'failed', reviewId: rec.id, message: `${sent} of ${total} review mails sent, ${why}: the next scan sends the rest (${d.error ?? ''})` };
}

/**
 * Tracking branches of the item's packaging branch that no review record names, deleted: a push
 * that landed after its attempt was abandoned (the scan killed while its `git push` child ran on,
 * and the next scan deleted the branch before the push arrived). Every attempt records its review
 * (state preparing) before it pushes, so a branch without a record is nobody's.
 */
async function sweepOrphanBranches(env: ScanEnv, git: TimedGit, item: TrackingItem): Promise<string[]> {
  const prefix = `refs/heads/patch-tracking/${item.branch}/`;
  const r = await git.run(['ls-remote', '--heads', '--', item.packagingUrl], { allowFailure: true });
  if (r.code !== 0) return []; // unreachable now: the scan's own fetch and push say why
  const named = new Set(env.reviews.list().map((rec) => rec.trackingBranch));
  const orphans = r.stdout
    .split('\n')
    .map((line) => line.split('\t')[1] ?? '')
    .filter((ref) => ref.startsWith(prefix) && !named.has(ref.slice('refs/heads/'.length)))
    .map((ref) => ref.slice('refs/heads/'.length));
  for (const branch of orphans) {
    await deleteRemoteBranch(git, item.packagingUrl, branch);
    env.log.warn(`track ${item.repo} ${item.branch}: deleted ${branch}: no review names it (a push that outlived its scan)`);
  }
  return orphans;
}

/** A range whose attempt failed to apply: tried again only once the packaging branch moved. */
async function packagingHead(git: TimedGit, item: TrackingItem): Promise<string | undefined> {
  const r = await git.run(['ls-remote', '--heads', '--', item.packagingUrl, `refs/heads/${item.branch}`], { allowFailure: true });
  return r.code === 0 ? r.stdout.split(/\s/)[0] || undefined : undefined;
}

/** Scan one item (holding its lock). */
async function scanItem(env: ScanEnv, item: TrackingItem): Promise<ItemOutcome> {
  const key = { repo: item.repo, branch: item.branch };
  const stateDir = env.loaded.stateDir;
  const { git, head } = await fetchUpstream(stateDir, item.upstreamUrl, item.upstreamBranch);
  await sweepOrphanBranches(env, git, item);
  if (!item.lastCommit) {
    await env.items.modify(key, (i) => {
      i.lastCommit ??= head;
    });
    return { ...key, outcome: 'up to date', message: `starts at the upstream head ${head.slice(0, 12)}` };
  }
  if (item.lastCommit === head) return { ...key, outcome: 'up to date' };
  const commits = await firstParentRange(git, item.lastCommit, head);
  const range = { from: item.lastCommit, to: head, commits: commits.length };
  const id = reviewIdOf(key, range.from, range.to);
  let rec = env.reviews.get(id);
  if (rec?.state === 'mailed') {
    await advance(env, item, rec);
    return { ...key, outcome: 'reviewed', reviewId: id, message: `already reviewed as ${rec.trackingBranch}: last commit advanced` };
  }
  if (rec?.state === 'pushed') return deliver(env, git, item, rec);
  if (rec?.state === 'failed') {
    const now = await packagingHead(git, item);
    if (now === rec.packagingBase) return { ...key, outcome: 'failed', reviewId: id, message: `${rec.failure?.patch ? `${rec.failure.patch}: ` : ''}${rec.failure?.message ?? 'failed'} (tried again once ${item.branch} of the packaging moves)` };
    rec = undefined;
  }
  if (rec) await abandon(env, git, item, rec); // preparing: a scan died midway, nothing was mailed

  const at = new Date();
  const trackingBranch = trackingBranchName(item.branch, at);
  // the item's scratch dir (under its lock): what a killed scan left there goes first
  const work = join(trackingDir(stateDir), 'work', fileSlug(keyOf(key)));
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const clone = new TimedGit(join(work, 'packaging'));
    const base = await clonePackaging(git, item, clone.dir);
    rec = await env.reviews.put({ id, repo: item.repo, branch: item.branch, range, trackingBranch, state: 'preparing', packagingBase: base });
    killPoint('preparing');
    const specFile = join(clone.dir, item.spec);
    if (!existsSync(specFile)) throw new PatchlineError('ESPEC', `the packaging repo has no ${item.spec} on ${item.branch}`, { input: item.spec });
    const mode = env.loaded.config.build?.sandbox ?? 'bwrap';
    const info = await timed('rpm', () => readSpec(specFile, {}, mode));
    const specDir = join(specFile, '..');
    const made = await makePatches(git, commits, join(work, 'patches'), highestPatchFileNumber(specDir) + 1);
    if (made.patches.length === 0) {
      await env.reviews.drop(id);
      await env.items.modify(key, (i) => {
        if (i.lastCommit === range.from) i.lastCommit = range.to;
      });
      return { ...key, outcome: 'up to date', message: `${commits.length} upstream commits change nothing: last commit advanced` };
    }
    const who = parseIdentity(env.from);
    await writePackagingCommits(clone, item, made.patches, { who, date: at, version: info.version, range });
    const prep = await checkPrep(specFile, join(work, 'job'), mode, git);
    const patchNames = made.patches.map((p) => p.name);
    if (prep.failure) {
      const p = made.patches.find((x) => x.name === prep.failure!.patch);
      const failure = { ...(prep.failure.patch ? { patch: prep.failure.patch } : {}), message: `${p ? `upstream ${p.commit.sha.slice(0, 12)} "${p.commit.subject}" does not apply: ` : ''}${prep.failure.message}` };
      await env.reviews.put({ ...rec, state: 'failed', failure, patches: patchNames });
      return { ...key, outcome: 'failed', reviewId: id, message: `rpmbuild -bp failed, nothing pushed: ${failure.patch ? `${failure.patch}: ` : ''}${failure.message}` };
    }
    const templatesDir = env.loaded.config.report?.templatesDir;
    env.templates ??= loadTemplates(templatesDir ? resolveFrom(env.loaded.baseDir, templatesDir) : undefined);
    const branchUrl = env.loaded.config.tracking?.branchUrl?.replace(/\{repo\}/g, item.repo).replace(/\{branch\}/g, trackingBranch);
    const mails = await composeReview(clone, base, join(work, 'mail'), {
      item,
      range,
      commits,
      patches: made.patches,
      empty: made.empty,
      trackingBranch,
      ...(branchUrl ? { branchUrl } : {}),
      percentPatch: !appliesAutomatically(readFileSync(specFile, 'utf8')),
      from: env.from,
      to: env.to,
      stamp: trackingBranch.split('/').pop()!,
      date: at,
    }, env.templates);
    const coverMessageId = env.channel.store(id, mails);
    killPoint('stored');
    const pushed = await clone.run(['push', '--quiet', '--', 'origin', `HEAD:refs/heads/${trackingBranch}`], { allowFailure: true });
    if (pushed.code !== 0) throw new PatchlineError('EPUSH', `cannot push ${trackingBranch} to ${item.packagingUrl}: ${pushed.stderr.trim().split('\n').pop() ?? ''}`, { input: trackingBranch });
    killPoint('pushed');
    rec = await env.reviews.put({ ...rec, state: 'pushed', coverMessageId, patches: patchNames, mails: { total: mails.length, sent: 0 } });
    killPoint('recorded');
    return await deliver(env, git, item, rec);
  } catch (err) {
    // nothing mailed yet: take back what this attempt made, so the next scan redoes the range
    const current = env.reviews.get(id);
    if (current && current.trackingBranch === trackingBranch && current.state !== 'failed' && current.state !== 'mailed' && !env.channel.begun(id)) {
      await abandon(env, git, item, current).catch((e: unknown) => env.log.warn(`${keyOf(key)}: cannot clean up ${trackingBranch}: ${(e as Error).message}`));
    }
    throw err;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The per-item lock: two scans never act on one item at once (the second reports busy). */
function lockItem(stateDir: string, key: ItemKey) {
  return acquireRunLock(join(trackingDir(stateDir), 'locks', fileSlug(keyOf(key))), { waitMs: 0, staleMs: 3_600_000, command: `patchline track scan ${keyOf(key)}` });
}

/** `patchline track scan`: every enabled item (or the one given) once. */
export async function scanTracking(loaded: LoadedConfig, opts: { log: Logger; item?: { repo: string; branch: string } }): Promise<ScanSummary> {
  const env = scanEnv(loaded, opts.log);
  const listed = env.items.list(opts.item ?? {});
  if (opts.item && listed.length === 0) throw new PatchlineError('ETRACK', `no tracking item for repo ${opts.item.repo} branch ${opts.item.branch}`, { input: keyOf(opts.item) });
  const summary: ScanSummary = { items: [] };
  try {
    for (const listedItem of listed) {
      const key = { repo: listedItem.repo, branch: listedItem.branch };
      if (!listedItem.enabled) {
        summary.items.push({ ...key, outcome: 'disabled' });
        continue;
      }
      let lock: Awaited<ReturnType<typeof lockItem>>;
      try {
        lock = await lockItem(loaded.stateDir, key);
      } catch (err) {
        if (asPatchlineError(err).code !== 'ELOCKED') throw err;
        const holder = /in use by another run: (.*)$/.exec((err as Error).message)?.[1];
        summary.items.push({ ...key, outcome: 'busy', message: `another scan is working on it${holder ? ` (${holder.replace(/ \(waited.*$/, '')})` : ''}` });
        continue;
      }
      try {
        // read again under the lock: another scan may just have advanced it, or it was removed
        const item = env.items.get(key);
        const outcome: ItemOutcome = !item ? { ...key, outcome: 'disabled', message: 'removed' } : !item.enabled ? { ...key, outcome: 'disabled' } : await scanItem(env, item);
        summary.items.push(outcome);
      } catch (err) {
        const e = asPatchlineError(err, 'ETRACK');
        summary.items.push({ ...key, outcome: 'failed', message: `${e.code} ${e.message}` });
      } finally {
        lock.release();
      }
    }
  } finally {
    env.channel.close();
  }
  return summary;
}
