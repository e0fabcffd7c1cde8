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
import type { PublishedPackage, PublishedRepo } from './types.js';

export interface PlatformJob {
  platform: string;
  runId: string;
  incoming: IncomingRpm[];
  now: Date;
}

export const repoUrl = (s: PublishSettings, platform: string): string => `${s.baseUrl}/${encodeURIComponent(platform)}/`;

const withUrls = (entries: ManifestEntry[], url: string): PublishedPackage[] => entries.map((e) => ({ ...e, url: `${url}${PACKAGES_DIR}/${encodeURIComponent(e.file)}` }));

/** publish.json's view of a platform whose live repo is `generation` (or none). */
export function describeRepo(s: PublishSettings, platform: string, generation: string | undefined, added: string[]): PublishedRepo {
  const url = repoUrl(s, platform);
  return {
    platform,
    status: 'published',
    path: s.remote ? `${s.remote}/${platform}` : join(s.root, platform),
    url,
    repoFileUrl: url + repoFileName(s.repoName(platform)),
    ...(generation ? { generation } : {}),
    packages: generation ? withUrls(readManifest(join(s.root, generation)), url) : [],
    added,
  };
}

/**
 * Build the platform's next generation beside the live one (previous RPMs + this run's,
 * createrepo_c metadata, .repo, index.html), then switch the live symlink to it. Until the
 * switch nothing the web server sees changes; on any failure the half-built dir is removed.
 */
export async function publishPlatform(s: PublishSettings, job: PlatformJob, templates: Templates): Promise<PublishedRepo> {
  const previous = liveGeneration(s.root, job.platform);
  const headers = await Promise.all(job.incoming.map(async (rpm) => ({ rpm, header: await readRpmHeader(rpm.path) })));
  const generation = newGenerationName(s.root, job.platform, job.runId);
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
    const url = repoUrl(s, job.platform);
    writeRepoFiles(genDir, { platform: job.platform, repoName: s.repoName(job.platform), url, runId: job.runId, publishedAt, packages: withUrls(entries, url) }, templates);
    switchLive(s.root, job.platform, generation);
    pruneGenerations(s.root, job.platform, s.keep);
    return describeRepo(s, job.platform, generation, added);
  } catch (err) {
    rmSync(genDir, { recursive: true, force: true });
    throw asPatchlineError(err, 'EPUBLISH');
  }
}
