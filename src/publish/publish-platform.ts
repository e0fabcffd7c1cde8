import { basename, join } from 'node:path';
import { rmSync } from 'node:fs';
import { asPatchlineError } from '../core/errors.js';
import type { Templates } from '../report/templates.js';
import type { IncomingRpm } from './collect.js';
import { createRepoMetadata } from './createrepo.js';
import { PACKAGES_DIR, linkOrCopy, liveGeneration, newGenerationName, pruneGenerations, readManifest, seedGeneration, switchLive, writeManifest, type ManifestEntry } from './generations.js';
import { readRpmHeader } from './rpm-header.js';
import { repoFileName, writeRepoFiles } from './repo-files.js';
import type { PublishSettings } from './settings.js';
import type { PublishTarget } from './layout.js';
import type { PublishedPackage, PublishedRepo } from './types.js';

/** One repo to publish into: a platform and repo/branch (its key under the root from publish.layout). */
export type RepoTarget = PublishTarget & { key: string; repoName: string };

export interface PlatformJob {
  target: RepoTarget;
  runId: string;
  incoming: IncomingRpm[];
  now: Date;
}

/** The URL a repo is served under: baseUrl + its key, each part URL-encoded. */
export const repoUrl = (s: PublishSettings, key: string): string => `${s.baseUrl}/${key.split('/').map(encodeURIComponent).join('/')}/`;

const withUrls = (entries: ManifestEntry[], url: string): PublishedPackage[] => entries.map((e) => ({ ...e, url: `${url}${PACKAGES_DIR}/${encodeURIComponent(e.file)}` }));

/** publish.json's view of a repo whose live generation is `generation` (or none). */
export function describeRepo(s: PublishSettings, target: RepoTarget, generation: string | undefined, added: string[]): PublishedRepo {
  const url = repoUrl(s, target.key);
  return {
    platform: target.platform,
    repo: target.repo,
    branch: target.branch,
    key: target.key,
    status: 'published',
    path: s.remote ? `${s.remote}/${target.key}` : join(s.root, target.key),
    url,
    repoFileUrl: url + repoFileName(target.repoName),
    ...(generation ? { generation } : {}),
    packages: generation ? withUrls(readManifest(join(s.root, generation)), url) : [],
    added,
  };
}

/**
 * Build the repo's next generation beside the live one (previous RPMs + this run's,
 * createrepo_c metadata, .repo, index.html), then switch the live symlink to it. Until the
 * switch nothing the web server sees changes; on any failure the half-built dir is removed.
 */
export async function publishPlatform(s: PublishSettings, job: PlatformJob, templates: Templates): Promise<PublishedRepo> {
  const { target } = job;
  const previous = liveGeneration(s.root, target.key);
  const headers = await Promise.all(job.incoming.map(async (rpm) => ({ rpm, header: await readRpmHeader(rpm.path) })));
  const generation = newGenerationName(s.root, target.key, job.runId);
  const genDir = join(s.root, generation);
  try {
    seedGeneration(genDir, previous ? join(s.root, previous) : undefined);
    const publishedAt = job.now.toISOString();
    const added = headers.map(({ rpm }) => basename(rpm.path));
    const kept = (previous ? readManifest(join(s.root, previous)) : []).filter((e) => !added.includes(e.file));
    for (const { rpm } of headers) linkOrCopy(rpm.path, join(genDir, PACKAGES_DIR, basename(rpm.path)));
    const entries = [...kept, ...headers.map(({ rpm, header }) => ({ ...header, file: basename(rpm.path), seriesId: rpm.seriesId, publishedAt }))];
    writeManifest(genDir, entries);
    await createRepoMetadata(genDir, { update: previous !== undefined });
    const url = repoUrl(s, target.key);
    writeRepoFiles(genDir, { platform: target.platform, repoName: target.repoName, url, runId: job.runId, publishedAt, packages: withUrls(entries, url) }, templates);
    switchLive(s.root, target.key, generation);
    pruneGenerations(s.root, target.key, s.keep);
    return describeRepo(s, target, generation, added);
  } catch (err) {
    rmSync(genDir, { recursive: true, force: true });
    throw asPatchlineError(err, 'EPUBLISH');
  }
}
