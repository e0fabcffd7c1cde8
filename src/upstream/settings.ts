import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveFrom, type LoadedConfig, type PlatformConfig } from '../core/config.js';
import { PatchlineError } from '../core/errors.js';
import { buildSettings, type BuildSettings } from '../build/settings.js';
import { publishSettings, type PublishSettings } from '../publish/settings.js';
import type { UpstreamProjectConfig } from './config-types.js';

/** Transient errors of mirrors, DNS and the network (DLRN's list, as regexes over the build log). */
export const DEFAULT_RETRY_PATTERNS = [
  'Could not resolve host',
  'Temporary failure in name resolution',
  'Connection timed out',
  'Connection reset by peer',
  'Failed to download',
  'Cannot download repomd\\.xml',
  'Curl error',
  'No more mirrors to try',
  'Network is unreachable',
  'Failed to synchronize cache',
];
export const DEFAULT_MAX_RETRIES = 3;
/** The upstream Release: the UTC date and time of the later of the upstream and dist-git commits first, so a later commit always sorts higher. */
export const UPSTREAM_RELEASE = '0.{datetime}.{shortsha}';

export interface UpstreamProject {
  name: string;
  upstream: string;
  branch: string;
  distgit: string;
  distgitBranch: string;
  spec: string;
  platforms: PlatformConfig[];
  maintainers: string[];
  enabled: boolean;
  version: 'spec' | 'git-describe';
}

export interface UpstreamSettings {
  projects: UpstreamProject[];
  maxRetries: number;
  retryPatterns: RegExp[];
  keep: { days?: number; builds?: number };
  commitUrl?: string;
  build: BuildSettings;
  publish: PublishSettings;
  /** <state>/upstream */
  dir: string;
  /** The config file's dir (secrets given as files are relative to it). */
  baseDir: string;
}

/** A git URL from the config: a local path is relative to the config file. */
function gitUrl(baseDir: string, url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^/]+:/.test(url)) return url;
  const path = resolveFrom(baseDir, url);
  return existsSync(path) ? path : url;
}

export function upstreamSettings(loaded: LoadedConfig): UpstreamSettings {
  const cfg = loaded.config.upstream;
  if (!cfg) throw new PatchlineError('ECONFIG', `no upstream: section in ${loaded.file}: nothing to build`, { input: loaded.file });
  const build = buildSettings(loaded);
  const byName = new Map(build.platforms.map((p) => [p.name, p]));
  const projects = Object.entries(cfg.projects).map(([name, p]: [string, UpstreamProjectConfig]): UpstreamProject => {
    const platforms = (p.platforms ?? [...byName.keys()]).map((n) => {
      const platform = byName.get(n);
      if (!platform) throw new PatchlineError('ECONFIG', `upstream.projects.${name}.platforms: ${n} is not in platforms: (known: ${[...byName.keys()].join(', ')})`, { input: n });
      return platform;
    });
    return {
      name,
      upstream: gitUrl(loaded.baseDir, p.upstream),
      branch: p.branch ?? 'master',
      distgit: gitUrl(loaded.baseDir, p.distgit),
      distgitBranch: p.distgitBranch ?? 'master',
      spec: p.spec,
      platforms,
      maintainers: p.maintainers ?? [],
      enabled: p.enabled !== false,
      version: p.version ?? build.version,
    };
  });
  let retryPatterns: RegExp[];
  try {
    retryPatterns = (cfg.retryPatterns ?? DEFAULT_RETRY_PATTERNS).map((s) => new RegExp(s, 'm'));
  } catch (err) {
    throw new PatchlineError('ECONFIG', `upstream.retryPatterns: ${(err as Error).message}`, { input: loaded.file });
  }
  return {
    projects,
    maxRetries: cfg.maxRetries ?? DEFAULT_MAX_RETRIES,
    retryPatterns,
    keep: cfg.keep ?? {},
    commitUrl: cfg.commitUrl,
    build,
    publish: publishSettings(loaded),
    dir: join(loaded.stateDir, 'upstream'),
    baseDir: loaded.baseDir,
  };
}
