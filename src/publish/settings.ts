import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveFrom, type LoadedConfig } from '../core/config.js';
import { checkPublish, configError, isRemoteDestination } from '../core/config-checks.js';
import { DEFAULT_LAYOUT, DEFAULT_REPO_NAME, layoutKey, repoId, type PublishTarget } from './layout.js';

export { isRemoteDestination } from '../core/config-checks.js';

export interface PublishSettings {
  /** Where generations are built and switched: the destination itself, or a local mirror of a remote one. */
  root: string;
  /** `[user@]host:/path` when the destination is remote. */
  remote?: string;
  /** What publish.json names as the destination. */
  destination: string;
  baseUrl: string;
  keep: number;
  /** The repo of a platform and repo/branch: its path under the root, and its .repo id. */
  target: (t: PublishTarget) => PublishTarget & { key: string; repoName: string };
  rsync: { options?: string[]; rsh?: string };
}

/** The publish section of the config, with defaults and paths resolved. */
export function publishSettings(loaded: LoadedConfig): PublishSettings {
  const cfg = loaded.config.publish ?? {};
  const destination = cfg.destination ?? join(loaded.stateDir, 'repos');
  const remote = isRemoteDestination(destination) ? destination.replace(/\/+$/, '') : undefined;
  const root = remote ? join(loaded.stateDir, 'publish-mirror') : resolveFrom(loaded.baseDir, destination);
  // loadConfig ran these rules already; a config built in code meets them here
  const problems = checkPublish(loaded.config);
  if (problems.length > 0) throw configError(problems, loaded.file);
  const baseUrl = (cfg.baseUrl ?? pathToFileURL(root).href).replace(/\/+$/, '');
  const layout = cfg.layout ?? DEFAULT_LAYOUT;
  const repoName = cfg.repoName ?? DEFAULT_REPO_NAME;
  return {
    root,
    remote,
    destination: remote ?? root,
    baseUrl,
    keep: cfg.keep ?? 3,
    target: (t) => ({ ...t, key: layoutKey(layout, t), repoName: repoId(repoName, t) }),
    rsync: cfg.rsync ?? {},
  };
}
