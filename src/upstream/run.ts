import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveFrom, type LoadedConfig, type PlatformConfig } from '../core/config.js';
import { ExitCode, PatchlineError, asPatchlineError } from '../core/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../core/fsutil.js';
import type { Logger } from '../core/log.js';
import { createProgress, type Progress } from '../core/progress.js';
import { resolveRunDir } from '../core/results.js';
import type { Git } from '../git/git.js';
import { compareWithHighest, readRpmIds } from '../pkgtest/nvr.js';
import { linkOrCopy } from '../publish/generations.js';
import { loadTemplates, type Templates } from '../report/templates.js';
import { lockStateDir } from '../run/lock.js';
import { buildCommit, type CommitBuild } from './build.js';
import { failureSignature, isTransient } from './failure.js';
import { upstreamJunit } from './junit.js';
import { deliverUpstreamMails, mailKindFor, mailMessageId, storeUpstreamMails, type MailContextInput } from './mail.js';
import { commitInfo, firstParentCommits, isAncestor, mirrorDirs, syncMirror } from './mirror.js';
import { cleanStaging, linkTarget, platformRoot, publishRepo, repoUrl, switchLink, toRemote, type VersionsRow } from './repos.js';
import { upstreamSettings, type UpstreamProject, type UpstreamSettings } from './settings.js';
import { openUpstreamStore } from './store.js';
import type { CommitInfo, IdleReason, QueueItem, UpstreamBuildRecord, UpstreamQueue, UpstreamStore } from './types.js';
import { killPoint } from './kill-point.js';

export interface UpstreamRunOptions {
  project?: string;
  headOnly?: boolean;
  /** `project@sha`: build that commit again with the current dist-git. */
  recheck?: string[];
  dryRun?: boolean;
  wait?: string;
  runDir?: string;
  /** Show a progress bar (default: on a TTY). */
  progress?: boolean;
}

/** One build to make: a commit of a project on a platform with a dist-git commit. */
interface Planned {
  project: UpstreamProject;
  platform: PlatformConfig;
  commit: CommitInfo;
  distgit: string;
  why: string;
  retries: number;
  id: string;
  /** The commit moves lastProcessed once built (new commits; not retries nor rechecks). */
  advances: boolean;
}

interface ProjectPlan {
  items: Planned[];
  idle?: IdleReason;
  detail?: string;
}

interface Ctx {
  s: UpstreamSettings;
  loaded: LoadedConfig;
  store: UpstreamStore;
  runId: string;
  runDir: string;
  log: Logger;
  templates: Templates;
  progress: Progress;
  /** Mails whose intent this run recorded, rendered at the end of each build. */
  mails: MailContextInput[];
}

type Gits = { upstream: Git; distgit: Git };

const baseId = (project: string, platform: string, sha: string, distgit: string): string => `${project}/${platform}/${sha}_${distgit.slice(0, 8)}`;
const isFinal = (r: UpstreamBuildRecord): boolean => !r.bisect && r.status !== 'RETRY';
const nowIso = (): string => new Date().toISOString();

/** The project's records on a platform, oldest first. */
function recordsOf(store: UpstreamStore, project: string, platform: string): UpstreamBuildRecord[] {
  return store.ofProject(project).filter((r) => r.platform === platform);
}

function lastFinal(store: UpstreamStore, project: string, platform: string, before?: string): UpstreamBuildRecord | undefined {
  const list = recordsOf(store, project, platform).filter((r) => isFinal(r) && r.id !== before);
  return list[list.length - 1];
}

function lastSuccess(store: UpstreamStore, project: string, platform: string): UpstreamBuildRecord | undefined {
  const list = recordsOf(store, project, platform).filter((r) => r.status === 'SUCCESS' && !r.bisect && r.repoPath);
  return list[list.length - 1];
}

/** RETRY records still owed a build: the newest attempt of their pair, not overtaken by a later success. */
function owedRetries(store: UpstreamStore, project: UpstreamProject, platform: PlatformConfig): UpstreamBuildRecord[] {
  const list = recordsOf(store, project.name, platform.name).filter((r) => !r.bisect);
  const newest = new Map<string, { r: UpstreamBuildRecord; at: number }>();
  list.forEach((r, at) => newest.set(r.id.replace(/#.*$/, ''), { r, at }));
  const lastOk = list.map((r) => r.status).lastIndexOf('SUCCESS');
  return [...newest.values()].filter(({ r, at }) => r.status === 'RETRY' && at > lastOk).map(({ r }) => r);
}

async function ref(git: Git, branch: string, what: string): Promise<string> {
  const sha = await git.revParse(`refs/heads/${branch}`);
  if (!sha) throw new PatchlineError('EUPSTREAM', `${what} has no branch ${branch}`, { input: branch });
  return sha;
}

/** What a project needs built, from its mirrors as they are and the store (no fetch). */
async function planProject(ctx: Pick<Ctx, 's' | 'store' | 'runId'>, project: UpstreamProject, gits: Gits, opts: UpstreamRunOptions): Promise<ProjectPlan> {
  const { s, store } = ctx;
  const head = await ref(gits.upstream, project.branch, `the upstream of ${project.name}`);
  const distgit = await ref(gits.distgit, project.distgitBranch, `the dist-git of ${project.name}`);
  const state = store.projectState(project.name);
  const items: Planned[] = [];
  const add = (commit: CommitInfo, why: string, opt: { retries?: number; id?: (base: string) => string; advances: boolean; force?: boolean; platform?: PlatformConfig; distgit?: string }) => {
    for (const platform of opt.platform ? [opt.platform] : project.platforms) {
      const dg = opt.distgit ?? distgit;
      const base = baseId(project.name, platform.name, commit.sha, dg);
      if (!opt.force && store.get(base)) continue; // a pair already built is never built again
      items.push({ project, platform, commit, distgit: dg, why, retries: opt.retries ?? 0, id: opt.id ? opt.id(base) : base, advances: opt.advances });
    }
  };
  for (const platform of project.platforms) {
    for (const r of owedRetries(store, project, platform)) {
      const n = r.retries + 1;
      add(r.commit, `retry ${n} of ${s.maxRetries}`, { retries: n, id: (b) => `${b}#${n}`, advances: false, force: true, platform, distgit: r.distgitSha });
    }
  }
  for (const spec of opts.recheck ?? []) {
    const [name, sha] = spec.split('@');
    if (name !== project.name || !sha) continue;
    const full = await gits.upstream.revParse(sha);
    if (!full) throw new PatchlineError('EUSAGE', `--recheck ${spec}: no commit ${sha} in the upstream of ${project.name}`, { input: spec });
    add(await commitInfo(gits.upstream, full), 'recheck', { id: (b) => `${b}#recheck-${ctx.runId}`, advances: false, force: true });
  }
  if (!opts.recheck?.length) {
    const last = state?.lastProcessed;
    let commits: CommitInfo[];
    let why = 'new commit';
    if (!last || !(await gits.upstream.revParse(last)) || !(await isAncestor(gits.upstream, last, head))) {
      commits = [await commitInfo(gits.upstream, head)];
      why = last ? 'upstream history rewritten: head only' : 'first run: head only';
    } else {
      commits = await firstParentCommits(gits.upstream, `${last}..${head}`);
      if (opts.headOnly && commits.length > 1) commits = commits.slice(-1);
      if (commits.length === 0 && state?.lastDistgit !== distgit) {
        commits = [await commitInfo(gits.upstream, head)];
        why = 'dist-git change';
      }
    }
    for (const c of commits) add(c, why, { advances: true });
  }
  if (items.length > 0) return { items, ...(items.every((i) => i.why.startsWith('retry')) ? { idle: 'waiting for retry' as const } : {}) };
  const exhausted = project.platforms.map((p) => lastFinal(store, project.name, p.name)).find((r) => r?.status === 'FAILED' && r.transient);
  if (exhausted) return { items, idle: 'retries exhausted', detail: `${exhausted.commit.sha.slice(0, 12)}: ${exhausted.failure?.message ?? ''}` };
  return { items, idle: 'up to date' };
}

async function projectGits(s: UpstreamSettings, project: UpstreamProject, fetch: boolean): Promise<Gits> {
  const dirs = mirrorDirs(s.dir, project.name);
  if (fetch) return { upstream: await syncMirror(dirs.upstream, project.upstream), distgit: await syncMirror(dirs.distgit, project.distgit) };
  const { Git } = await import('../git/git.js');
  if (!existsSync(join(dirs.upstream, 'HEAD')) || !existsSync(join(dirs.distgit, 'HEAD'))) throw new PatchlineError('EUPSTREAM', `${project.name}: not cloned yet`, { input: project.name });
  return { upstream: new Git(dirs.upstream), distgit: new Git(dirs.distgit) };
}

/** A log published beside the repos, for a build that made no repo (failure, retry, bisection step). */
function publishLog(s: UpstreamSettings, platform: string, id: string, logFile: string): string {
  const leaf = id.split('/').pop()!.replace(/[^A-Za-z0-9._-]+/g, '-');
  const rel = `logs/${leaf.slice(0, 2)}/${leaf}.build.log`;
  const to = join(platformRoot(s, platform), rel);
  mkdirSync(join(to, '..'), { recursive: true });
  linkOrCopy(logFile, to);
  return `${platform}/${rel}`;
}

/** The candidate's EVR against the project's last success on the platform: must be higher before anything is published. */
async function nvrNotHigher(ctx: Ctx, item: Planned, out: CommitBuild): Promise<string | undefined> {
  const prev = lastSuccess(ctx.store, item.project.name, item.platform.name);
  if (!prev?.nvr || !out.nvr || out.rpms.length === 0) return undefined;
  const [cand] = await readRpmIds(out.rpms.slice(0, 1));
  const m = /^(.*)-([^-]+)-([^-]+)$/.exec(prev.nvr);
  if (!cand || !m) return undefined;
  const [res] = await compareWithHighest([{ candidate: cand, published: [{ epoch: cand.epoch, version: m[2]!, release: m[3]! }] }]);
  return res && res.cmp <= 0 ? `${out.nvr} is not higher than ${prev.nvr}, the last success (${prev.commit.sha.slice(0, 12)}): nothing published` : undefined;
}

/** Build one planned item and classify it (SUCCESS / RETRY / FAILED); nothing published yet. */
async function buildAndClassify(ctx: Ctx, item: Planned, gits: Gits, bisect: boolean): Promise<{ record: UpstreamBuildRecord; out: CommitBuild; work: string }> {
  const work = join(ctx.runDir, 'build', item.project.name, item.platform.name, `${item.commit.sha.slice(0, 12)}${item.id.includes('#') ? `-${item.id.split('#')[1]}` : ''}`);
  const out = await buildCommit(ctx.s, item.project, item.platform, gits, { upstream: item.commit.sha, distgit: item.distgit }, work, (l) => ctx.log.info(l));
  killPoint('built');
  const record: UpstreamBuildRecord = {
    id: item.id,
    project: item.project.name,
    platform: item.platform.name,
    commit: item.commit,
    distgitSha: item.distgit,
    status: 'SUCCESS',
    builtAt: nowIso(),
    runId: ctx.runId,
    ...(out.nvr ? { nvr: out.nvr } : {}),
    rpms: out.rpms.map((f) => f.split('/').pop()!),
    retries: item.retries,
    ...(bisect ? { bisect: true } : {}),
  };
  if (out.ok) {
    const lower = bisect ? undefined : await nvrNotHigher(ctx, item, out);
    if (lower) Object.assign(record, { status: 'FAILED', rpms: [], failure: { step: 'nvr-order', signature: failureSignature('nvr-order', ''), message: lower } });
    return { record, out, work };
  }
  const step = out.step ?? 'rpmbuild';
  const failure = { step, signature: failureSignature(step, out.log), message: out.message ?? `${step} failed` };
  const pattern = isTransient(out.log, ctx.s.retryPatterns);
  record.rpms = [];
  if (pattern && !bisect) {
    record.transient = pattern.source;
    if (item.retries < ctx.s.maxRetries) return { record: { ...record, status: 'RETRY', failure }, out, work };
    return { record: { ...record, status: 'FAILED', failure: { ...failure, message: `still failing after ${item.retries} retries: ${failure.message}` } }, out, work };
  }
  return { record: { ...record, status: 'FAILED', failure }, out, work };
}

/** The build of `commit` with dist-git `distgit` for a bisection: the store's when it has one (not a RETRY), else built now (bisect: true, no repo). */
async function bisectionBuild(ctx: Ctx, item: Planned, gits: Gits, commit: CommitInfo, distgit: string): Promise<boolean> {
  const id = baseId(item.project.name, item.platform.name, commit.sha, distgit);
  let r = ctx.store.get(id);
  if (!r || r.status === 'RETRY') {
    ctx.log.info(`upstream: ${item.project.name} ${item.platform.name}: bisecting, building ${commit.sha.slice(0, 12)} with dist-git ${distgit.slice(0, 12)}`);
    const built = await buildAndClassify(ctx, { ...item, commit, distgit, id, why: 'bisect', retries: 0, advances: false }, gits, true);
    r = { ...built.record, log: publishLog(ctx.s, item.platform.name, id, built.out.logFile) };
    ctx.store.put(r);
    rmSync(built.work, { recursive: true, force: true });
    ctx.progress.tick(`bisect ${item.project.name} ${commit.sha.slice(0, 8)}`);
  }
  return r.status === 'SUCCESS';
}

/** The first commit of `range` (oldest first; its last one known bad, what comes before it known good) that fails: a binary search. */
async function firstFailing(range: readonly CommitInfo[], good: (c: CommitInfo) => Promise<boolean>): Promise<CommitInfo> {
  let lo = -1; // known good (before the range)
  let hi = range.length - 1; // known bad
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await good(range[mid]!)) lo = mid;
    else hi = mid;
  }
  return range[hi]!;
}

/**
 * The first bad commit between the last success and a failure whose range was not all built,
 * with the same builder (records with bisect: true, no repo), reusing any build the store has.
 * When the dist-git moved too, the last good upstream commit is built with the new packaging
 * first: if that fails, the packaging broke the build, and the bisection runs over the dist-git
 * commits instead (the culprit marked `packaging`). At most ceil(log2 n) builds besides the
 * failure itself, plus that one when the dist-git moved.
 */
async function firstBadCommit(ctx: Ctx, item: Planned, gits: Gits, good: UpstreamBuildRecord): Promise<CommitInfo | undefined> {
  if (good.distgitSha !== item.distgit && (await isAncestor(gits.distgit, good.distgitSha, item.distgit))) {
    const packagingBroke = good.commit.sha === item.commit.sha || !(await bisectionBuild(ctx, item, gits, good.commit, item.distgit));
    if (packagingBroke) {
      const range = await firstParentCommits(gits.distgit, `${good.distgitSha}..${item.distgit}`);
      if (range.length === 0 || range[range.length - 1]!.sha !== item.distgit) return undefined;
      const bad = await firstFailing(range, (dg) => bisectionBuild(ctx, item, gits, good.commit, dg.sha));
      return { ...bad, packaging: true };
    }
  }
  if (!(await isAncestor(gits.upstream, good.commit.sha, item.commit.sha))) return undefined;
  const range = await firstParentCommits(gits.upstream, `${good.commit.sha}..${item.commit.sha}`);
  if (range.length === 0 || range[range.length - 1]!.sha !== item.commit.sha) return undefined;
  return firstFailing(range, (commit) => bisectionBuild(ctx, item, gits, commit, item.distgit));
}

function versionsRows(ctx: Ctx, platform: string, projects: readonly UpstreamProject[], current: UpstreamBuildRecord): VersionsRow[] {
  return projects
    .filter((p) => p.platforms.some((pl) => pl.name === platform))
    .flatMap((p) => {
      const ok = p.name === current.project ? current : lastSuccess(ctx.store, p.name, platform);
      const latest = p.name === current.project ? current : recordsOf(ctx.store, p.name, platform).filter((r) => !r.bisect).pop();
      if (!ok || !latest) return [];
      return [{ project: p.name, upstreamSha: ok.commit.sha, distgitSha: ok.distgitSha, nvr: ok.nvr ?? '', status: latest.status, lastSuccess: ok.builtAt }];
    });
}

/** Every project's latest final build on the platform succeeded (RETRY neither counts nor blocks; projects never built are ignored). */
function allGood(ctx: Ctx, platform: string, except: string): boolean {
  return ctx.s.projects.filter((p) => p.enabled && p.name !== except).every((p) => {
    const r = lastFinal(ctx.store, p.name, platform);
    return !r || r.status === 'SUCCESS';
  });
}

const stripPlatform = (platform: string, repoPath: string): string => repoPath.slice(platform.length + 1);

/** Build one item, publish it (success), record it, move the links, owe its mail. */
async function processItem(ctx: Ctx, item: Planned, gits: Gits): Promise<UpstreamBuildRecord> {
  const { s, store } = ctx;
  const { record, out, work } = await buildAndClassify(ctx, item, gits, false);
  const previous = lastFinal(store, item.project.name, item.platform.name, record.id);
  if (record.status === 'FAILED' && !record.transient) {
    if (previous?.status === 'SUCCESS') {
      const bad = await firstBadCommit(ctx, item, gits, previous);
      if (bad) record.firstBadCommit = bad;
    } else if (previous?.firstBadCommit) {
      record.firstBadCommit = previous.firstBadCommit;
    }
  }
  let consistent = false;
  if (record.status === 'SUCCESS') {
    const others = s.projects.filter((p) => p.name !== item.project.name && p.enabled).flatMap((p) => {
      const ok = lastSuccess(store, p.name, item.platform.name);
      return ok?.repoPath ? [{ dir: join(s.publish.root, ok.repoPath), rpms: ok.rpms }] : [];
    });
    consistent = allGood(ctx, item.platform.name, item.project.name);
    const rel = await publishRepo(s, { project: record.project, platform: record.platform, distgitSha: record.distgitSha, sha: record.commit.sha }, { rpms: out.rpms, logFile: out.logFile }, others, versionsRows(ctx, item.platform.name, s.projects, record));
    killPoint('repo');
    record.repoPath = `${item.platform.name}/${rel}`;
    record.log = `${record.repoPath}/build.log`;
    if (consistent) record.consistent = true;
  } else {
    record.log = publishLog(s, item.platform.name, record.id, out.logFile);
    await toRemote(s, join(platformRoot(s, item.platform.name), 'logs'), `${item.platform.name}/logs`);
  }
  const kind = record.status === 'RETRY' ? undefined : mailKindFor(record, previous);
  if (kind) record.mail = { kind, messageId: mailMessageId(record, kind) };
  record.builtAt = nowIso();
  store.put(record);
  killPoint('recorded');
  if (record.status === 'SUCCESS') {
    await switchLink(s, item.platform.name, 'current', stripPlatform(item.platform.name, record.repoPath!));
    killPoint('current');
    if (consistent) await switchLink(s, item.platform.name, 'consistent', stripPlatform(item.platform.name, record.repoPath!));
  }
  if (kind) {
    ctx.mails.push(mailInput(ctx, record, previous));
    await storeUpstreamMails(s.dir, ctx.mails.splice(0), ctx.loaded, ctx.templates, ctx.runId);
    killPoint('mail');
  }
  // its RPMs and log are hard linked into the repo (or logs/): the build dir goes, or runs fill the disk
  rmSync(work, { recursive: true, force: true });
  const what = record.status === 'SUCCESS' ? record.nvr : `${record.status}${record.failure ? ` (${record.failure.step}: ${record.failure.message.split('\n')[0]})` : ''}`;
  ctx.log.info(`upstream: ${item.project.name} ${item.platform.name} ${item.commit.sha.slice(0, 12)} (${item.why}): ${what}${record.firstBadCommit ? `; first bad commit ${record.firstBadCommit.sha.slice(0, 12)} ${record.firstBadCommit.subject}` : ''}`);
  return record;
}

function mailInput(ctx: Pick<Ctx, 's' | 'store'>, record: UpstreamBuildRecord, previous: UpstreamBuildRecord | undefined): MailContextInput {
  const { s } = ctx;
  const project = s.projects.find((p) => p.name === record.project);
  const tpl = s.commitUrl;
  return {
    record,
    kind: record.mail!.kind,
    ...(record.mail!.kind === 'recovery' && previous ? { ended: previous } : {}),
    maintainers: project?.maintainers ?? [],
    ...(record.log ? { logFile: join(s.publish.root, record.log), logUrl: `${s.publish.baseUrl}/${record.log}` } : {}),
    ...(record.repoPath ? { repoUrl: repoUrl(s, record.platform, stripPlatform(record.platform, record.repoPath)) } : {}),
    commitUrl: (sha) => (tpl ? tpl.replace(/\{project\}/g, record.project).replace(/\{sha\}/g, sha) : undefined),
  };
}

/**
 * After a crash: `current` and `consistent` point where the store says (the newest success,
 * the newest consistent success), and every mail intent the store holds is in the outbox.
 */
async function repair(ctx: Ctx): Promise<void> {
  const { s, store } = ctx;
  const platforms = [...new Set(s.projects.flatMap((p) => p.platforms.map((pl) => pl.name)))];
  cleanStaging(s, platforms);
  const all = store.all();
  for (const platform of platforms) {
    const ok = all.filter((r) => r.platform === platform && r.status === 'SUCCESS' && !r.bisect && r.repoPath && existsSync(join(s.publish.root, r.repoPath)));
    const cur = ok[ok.length - 1];
    const cons = ok.filter((r) => r.consistent).pop();
    for (const [name, r] of [['current', cur], ['consistent', cons]] as const) {
      if (r && linkTarget(s, platform, name) !== stripPlatform(platform, r.repoPath!)) await switchLink(s, platform, name, stripPlatform(platform, r.repoPath!));
    }
  }
  const owed = all.filter((r) => r.mail).map((r) => mailInput(ctx, r, lastFinalBefore(all, r)));
  await storeUpstreamMails(s.dir, owed, ctx.loaded, ctx.templates, ctx.runId);
}

function lastFinalBefore(all: readonly UpstreamBuildRecord[], r: UpstreamBuildRecord): UpstreamBuildRecord | undefined {
  const i = all.indexOf(r);
  for (let j = i - 1; j >= 0; j--) if (all[j]!.project === r.project && all[j]!.platform === r.platform && isFinal(all[j]!)) return all[j];
  return undefined;
}

/** What the next run will build, and why a project has nothing (from the mirrors as fetched, no fetch). */
export async function computeQueue(ctx: Pick<Ctx, 's' | 'store' | 'runId'>, opts: UpstreamRunOptions = {}): Promise<UpstreamQueue> {
  const queue: QueueItem[] = [];
  const projects: UpstreamQueue['projects'] = [];
  for (const project of ctx.s.projects) {
    const state = ctx.store.projectState(project.name);
    if (!project.enabled) {
      projects.push({ project: project.name, queued: 0, idle: 'disabled' });
      continue;
    }
    if (state?.cloneError) {
      projects.push({ project: project.name, queued: 0, idle: 'clone failed', detail: state.cloneError });
      continue;
    }
    try {
      const plan = await planProject(ctx, project, await projectGits(ctx.s, project, false), { headOnly: opts.headOnly });
      for (const i of plan.items) queue.push({ project: project.name, platform: i.platform.name, commit: i.commit, distgitSha: i.distgit, why: i.why });
      projects.push({ project: project.name, queued: plan.items.length, ...(plan.idle ? { idle: plan.idle } : {}), ...(plan.detail ? { detail: plan.detail } : {}) });
    } catch (err) {
      projects.push({ project: project.name, queued: 0, idle: 'clone failed', detail: asPatchlineError(err, 'EUPSTREAM').message });
    }
  }
  return { computedAt: nowIso(), runId: ctx.runId, queue, projects };
}

async function writePages(ctx: Ctx, queue: UpstreamQueue): Promise<void> {
  const { s } = ctx;
  writeJsonAtomic(join(s.dir, 'queue.json'), queue);
  const pages = await import('./pages.js');
  const outDir = s.publish.remote ? join(s.dir, 'pages') : s.publish.root;
  mkdirSync(outDir, { recursive: true });
  pages.writeUpstreamPages(ctx.store, queue, outDir, { templates: ctx.templates, ...(s.commitUrl ? { commitUrl: s.commitUrl } : {}) });
  await toRemote(s, outDir, '');
}

function exitCodeOf(records: readonly UpstreamBuildRecord[], cloneFailures: number): ExitCode {
  const final = records.filter((r) => !r.bisect);
  const failed = final.filter((r) => r.status === 'FAILED').length + cloneFailures;
  const retry = final.some((r) => r.status === 'RETRY');
  const ok = final.filter((r) => r.status === 'SUCCESS').length;
  if (failed === 0) return retry ? ExitCode.partial : ExitCode.ok;
  return ok > 0 || retry ? ExitCode.partial : ExitCode.failed;
}

/** `patchline upstream`: one run over every (or one) project, under the state lock. */
export async function runUpstream(loaded: LoadedConfig, opts: UpstreamRunOptions, log: Logger): Promise<ExitCode> {
  const s = upstreamSettings(loaded);
  if (opts.project !== undefined && !s.projects.some((p) => p.name === opts.project)) {
    throw new PatchlineError('EUSAGE', `--project ${opts.project}: not an upstream project (known: ${s.projects.map((p) => p.name).join(', ')})`, { input: opts.project });
  }
  for (const r of opts.recheck ?? []) {
    const [name, sha] = r.split('@');
    if (!sha || !s.projects.some((p) => p.name === name)) throw new PatchlineError('EUSAGE', `--recheck ${r}: expected <project>@<sha> with a configured project`, { input: r });
  }
  const lock = await lockStateDir(loaded, { wait: opts.wait, command: `patchline upstream --config ${loaded.file}`, log, who: 'patchline upstream' });
  try {
    const { runDir, runId } = resolveRunDir({ runDir: opts.runDir, stateDir: s.dir, fresh: true });
    log.info(`patchline upstream: run dir ${runDir}`);
    const store = openUpstreamStore(loaded.stateDir);
    const templatesDir = loaded.config.report?.templatesDir;
    const ctx: Ctx = { s, loaded, store, runId, runDir, log, templates: loadTemplates(templatesDir === undefined ? undefined : resolveFrom(loaded.baseDir, templatesDir)), progress: createProgress('upstream', 0, opts.progress === undefined ? {} : { enabled: opts.progress }), mails: [] };
    try {
      if (!opts.dryRun) await repair(ctx);
      const records: UpstreamBuildRecord[] = [];
      let cloneFailures = 0;
      const wanted = s.projects.filter((p) => p.enabled && (opts.project === undefined || p.name === opts.project));
      const plans: Array<{ project: UpstreamProject; gits: Gits; plan: ProjectPlan }> = [];
      for (const project of wanted) {
        const state = store.projectState(project.name);
        try {
          const gits = await projectGits(s, project, true);
          if (state?.cloneError && !opts.dryRun) store.putProjectState({ ...state, cloneError: undefined, updatedAt: nowIso() });
          plans.push({ project, gits, plan: await planProject(ctx, project, gits, opts) });
        } catch (err) {
          const e = asPatchlineError(err, 'EUPSTREAM');
          if (e.code === 'EUSAGE') throw e;
          cloneFailures++;
          log.warn(`upstream: ${project.name}: clone failed: ${e.message}`);
          if (!opts.dryRun) store.putProjectState({ ...(state ?? { project: project.name }), cloneError: e.message, updatedAt: nowIso() });
        }
      }
      const total = plans.reduce((n, p) => n + p.plan.items.length, 0);
      ctx.progress.setTotal(total);
      if (opts.dryRun) {
        for (const { project, plan } of plans) {
          for (const i of plan.items) log.info(`upstream: would build ${project.name} ${i.platform.name} ${i.commit.sha.slice(0, 12)} (${i.why}) ${i.commit.subject}`);
          if (plan.items.length === 0) log.info(`upstream: ${project.name}: ${plan.idle ?? 'nothing to build'}`);
        }
        return cloneFailures > 0 ? ExitCode.partial : ExitCode.ok;
      }
      for (const { project, gits, plan } of plans) {
        const byCommit = new Map<string, Planned[]>();
        for (const i of plan.items) byCommit.set(`${i.commit.sha}${i.advances ? '' : `#${i.id}`}`, [...(byCommit.get(`${i.commit.sha}${i.advances ? '' : `#${i.id}`}`) ?? []), i]);
        for (const items of byCommit.values()) {
          for (const item of items) {
            records.push(await processItem(ctx, item, gits));
            ctx.progress.tick(`${project.name} ${item.platform.name} ${item.commit.sha.slice(0, 8)}`);
          }
          const first = items[0]!;
          if (first.advances) store.putProjectState({ project: project.name, lastProcessed: first.commit.sha, lastDistgit: first.distgit, updatedAt: nowIso() });
        }
        // nothing to build: still note the dist-git seen, so that a later change of it is a change
        const state = store.projectState(project.name);
        if (plan.items.length === 0 && state?.lastProcessed === undefined) {
          store.putProjectState({ project: project.name, lastProcessed: await ref(gits.upstream, project.branch, project.name), lastDistgit: await ref(gits.distgit, project.distgitBranch, project.name), updatedAt: nowIso() });
        }
      }
      ctx.progress.stop();
      await deliverUpstreamMails(s.dir, loaded, log);
      const queue = await computeQueue(ctx, opts);
      writeFileAtomic(join(runDir, 'junit.xml'), upstreamJunit(store, s, runId));
      let code = exitCodeOf(records, cloneFailures);
      try {
        await writePages(ctx, queue);
      } catch (err) {
        // the builds, repos and mails are done and recorded: the pages come back with the next run
        log.warn(`upstream: pages not written: ${asPatchlineError(err, 'EREPORT').message}`);
        if (code === ExitCode.ok) code = ExitCode.partial;
      }
      log.info(`upstream: ${records.filter((r) => !r.bisect).length} builds (${records.filter((r) => r.status === 'SUCCESS' && !r.bisect).length} succeeded, ${records.filter((r) => r.bisect).length} bisection steps), ${queue.queue.length} queued for the next run`);
      return code;
    } finally {
      ctx.progress.stop();
      store.close();
    }
  } finally {
    lock.release();
  }
}
