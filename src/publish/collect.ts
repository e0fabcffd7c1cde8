import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PatchlineError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import type { BuildResult } from '../build/types.js';
import type { Config } from '../core/config.js';
import type { RepoTarget } from './publish-platform.js';
import type { PublishSettings } from './settings.js';

export interface IncomingRpm {
  /** Local file (downloaded when the builder gave a URL). */
  path: string;
  seriesId: string;
}

/** The RPMs one repo of the publish root takes (a platform and repo/branch, or more when publish.layout joins them). */
export interface RepoRefs {
  target: RepoTarget;
  refs: Array<{ ref: string; seriesId: string }>;
}

/**
 * The binary RPMs of this run's builds, per repo of the publish root (source RPMs stay out of
 * yum repos). A skipped build (the builder already had the NVR) publishes the RPMs it names
 * again: same file, same repo. A record that names no branch (a build.json written by hand) goes
 * to its repo's branch when the repo has only one, else it is left out and named in `unplaced`.
 */
export function rpmsByRepo(build: BuildResult, settings: PublishSettings, config: Config): { repos: Map<string, RepoRefs>; unplaced: string[] } {
  const repos = new Map<string, RepoRefs>();
  const unplaced: string[] = [];
  for (const b of build.builds) {
    if (b.state !== 'built' && b.state !== 'skipped') continue;
    const refs = b.rpms.filter((ref) => !ref.endsWith('.src.rpm')).map((ref) => ({ ref, seriesId: b.seriesId }));
    if (refs.length === 0) continue;
    const branches = config.repos[b.repo]?.branches ?? [];
    const branch = b.branch ?? (branches.length === 1 ? branches[0] : undefined);
    if (branch === undefined) {
      unplaced.push(b.seriesId);
      continue;
    }
    const target = settings.target({ platform: b.platform, repo: b.repo, branch });
    const group = repos.get(target.key) ?? { target, refs: [] };
    group.refs.push(...refs);
    repos.set(target.key, group);
  }
  return { repos, unplaced };
}

async function download(url: string, dir: string): Promise<string> {
  const file = join(dir, basename(new URL(url).pathname));
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) });
  } catch (err) {
    throw new PatchlineError('EPUBLISH', `cannot download ${url}: ${(err as Error).message}`, { input: url });
  }
  if (!res.ok || !res.body) throw new PatchlineError('EPUBLISH', `cannot download ${url}: HTTP ${res.status}`, { input: url });
  mkdirSync(dir, { recursive: true });
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file));
  return file;
}

/**
 * Make every RPM of a platform a local file: URLs (Koji's topurl) are downloaded into
 * `downloadDir`, paths are taken relative to the run dir.
 */
export async function fetchRpms(refs: Array<{ ref: string; seriesId: string }>, runDir: string, downloadDir: string, progress: Progress): Promise<IncomingRpm[]> {
  const out: IncomingRpm[] = [];
  for (const { ref, seriesId } of refs) {
    let path: string;
    if (/^https?:\/\//.test(ref)) {
      path = await download(ref, downloadDir);
    } else {
      path = resolve(runDir, ref);
      if (!existsSync(path)) throw new PatchlineError('EPUBLISH', `the RPM named in build.json does not exist: ${path}`, { input: ref });
    }
    out.push({ path, seriesId });
    progress.tick(basename(path));
  }
  return out;
}
