import { join } from 'node:path';
import { ExitCode, asPatchlineError, type PatchlineError } from '../core/errors.js';
import { createProgress } from '../core/progress.js';
import { readResult, readResultIfExists, writeResult } from '../core/results.js';
import type { StepRun } from '../core/step-context.js';
import { resolveFrom } from '../core/config.js';
import { loadTemplates } from '../report/templates.js';
import { fetchRpms, rpmsByRepo } from './collect.js';
import { liveGeneration } from './generations.js';
import { describeRepo, publishPlatform, type RepoTarget } from './publish-platform.js';
import { rsyncTree } from './rsync.js';
import { publishSettings, type PublishSettings } from './settings.js';
import type { PublishedRepo, PublishResult } from './types.js';
import type { BuildResult } from '../build/types.js';
import { Ledger } from '../ledger/store.js';
import { promoteGated } from '../apply/promote.js';
import { publishWork, recordPublish } from '../ledger/work.js';

function liveOrNone(s: PublishSettings, key: string): string | undefined {
  try {
    return liveGeneration(s.root, key);
  } catch {
    return undefined;
  }
}

/** A repo that could not be published: the previous generation (if any) still serves. */
function failedRepo(s: PublishSettings, target: RepoTarget, previous: string | undefined, err: PatchlineError): PublishedRepo {
  return { ...describeRepo(s, target, previous, []), status: 'failed', error: err.toJSON() };
}

/**
 * A remote destination gets the local mirror in two rsync passes: first the new generations
 * (the live symlinks left out), then the symlinks and the deletions, so the remote switches
 * only once every file of the new generation is there.
 */
async function upload(s: PublishSettings, keys: string[]): Promise<void> {
  const exclude = keys.map((k) => `/${k}`);
  await rsyncTree(s.root, s.remote!, { ...s.rsync, exclude, delete: false });
  await rsyncTree(s.root, s.remote!, { ...s.rsync, delete: true });
}

export const runPublishStep: StepRun = async (ctx) => {
  const { loaded, runDir, runId, log, options } = ctx;
  const settings = publishSettings(loaded);
  const dryRun = options.dryRun === true;
  // the work comes from the ledger (every build whose RPMs are not published yet); a dry run recorded nothing there
  const ledger = Ledger.open(loaded.stateDir);
  // first the gate: the branches move to the gated series that passed, then their packages are published
  if (!dryRun) await promoteGated(ctx, ledger);
  const own = readResultIfExists(runDir, 'build');
  // the run's own build.json counts too for series the ledger does not know (a build.json written by hand)
  const build: BuildResult = dryRun
    ? (own ?? readResult(runDir, 'build'))
    : { runId, startedAt: '', finishedAt: '', builds: [...publishWork(ledger, loaded.config, options), ...(own?.builds ?? []).filter((b) => !ledger.get(b.seriesId))] };
  const userTemplates = loaded.config.report?.templatesDir;
  const templates = loadTemplates(userTemplates ? resolveFrom(loaded.baseDir, userTemplates) : undefined);
  const { repos: byRepo, unplaced } = rpmsByRepo(build, settings, loaded.config);
  for (const id of unplaced) log.warn(`publish: ${id}: its build record names no branch and its repo has several: not published (build it again with patchline build)`);
  const repos: PublishedRepo[] = [];
  const progress = createProgress('publish', [...byRepo.values()].reduce((n, g) => n + g.refs.length, 0));
  const now = new Date();
  const previous = new Map<string, string | undefined>();
  try {
    for (const [key, { target, refs }] of byRepo) {
      previous.set(key, liveOrNone(settings, key));
      try {
        if (dryRun) {
          log.info(`publish ${key}: ${refs.length} RPMs (dry run: nothing published)`);
          continue;
        }
        const incoming = await fetchRpms(refs, runDir, join(runDir, 'publish', 'downloads', target.platform), progress);
        const repo = await publishPlatform(settings, { target, runId, incoming, now }, templates);
        log.info(`publish ${key}: ${repo.added.length} RPMs added, ${repo.packages.length} in ${settings.remote ? 'the mirror of ' : ''}${repo.path}`);
        repos.push(repo);
      } catch (err) {
        const e = asPatchlineError(err, 'EPUBLISH');
        log.warn(`publish ${key} failed, the previous repo still serves: ${e.message}`);
        repos.push(failedRepo(settings, target, previous.get(key), e));
      }
    }
    const published = repos.filter((r) => r.status === 'published');
    if (settings.remote && published.length > 0) {
      try {
        await upload(settings, published.map((r) => r.key!));
        log.info(`publish: rsync to ${settings.remote} done`);
      } catch (err) {
        const e = asPatchlineError(err, 'EPUBLISH');
        log.warn(`publish: rsync to ${settings.remote} failed, the remote still serves the previous repos: ${e.message}`);
        for (const r of published) repos[repos.indexOf(r)] = failedRepo(settings, byRepo.get(r.key!)!.target, previous.get(r.key!), e);
      }
    }
  } finally {
    progress.stop();
  }
  const result: PublishResult = { runId, destination: settings.destination, repos };
  writeResult(runDir, 'publish', result, { round: options.round as number | undefined });
  if (!dryRun) {
    const at = new Date().toISOString();
    for (const repo of repos) recordPublish(ledger, repo, (byRepo.get(repo.key!)?.refs ?? []).map((r) => r.seriesId), runId, at);
  }
  const failed = repos.filter((r) => r.status === 'failed').length;
  if (failed === 0) return ExitCode.ok;
  return failed === repos.length ? ExitCode.failed : ExitCode.partial;
};
