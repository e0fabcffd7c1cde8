import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveFrom, type LoadedConfig } from '../core/config.js';
import { PatchlineError } from '../core/errors.js';

export interface PublishSettings {
  /** Where generations are built and switched: the destination itself, or a local mirror of a remote one. */
  root: string;
  /** `[user@]host:/path` when the destination is remote. */
  remote?: string;
  /** What publish.json names as the destination. */
  destination: string;
  baseUrl: string;
  keep: number;
  repoName: (platform: string) => string;
  rsync: { options?: string[]; rsh?: string };
}

/** rsync's own rule: a colon before any slash means a remote host. */
export function isRemoteDestination(dest: string): boolean {
  return /^(?:[^@/:\s]+@)?[A-Za-z0-9][A-Za-z0-9.-]*:/.test(dest);
}

/** The publish section of the config, with defaults and paths resolved. */
export function publishSettings(loaded: LoadedConfig): PublishSettings {
  const cfg = loaded.config.publish ?? {};
  const destination = cfg.destination ?? join(loaded.stateDir, 'repos');
  const remote = isRemoteDestination(destination) ? destination.replace(/\/+$/, '') : undefined;
  const root = remote ? join(loaded.stateDir, 'publish-mirror') : resolveFrom(loaded.baseDir, destination);
  if (remote && cfg.baseUrl === undefined) {
    throw new PatchlineError('ECONFIG', `publish.baseUrl: required when publish.destination is remote (${remote})`, { input: 'publish.baseUrl' });
  }
  const baseUrl = (cfg.baseUrl ?? pathToFileURL(root).href).replace(/\/+$/, '');
  const pattern = cfg.repoName ?? 'patchline-{platform}';
  return {
    root,
    remote,
    destination: remote ?? root,
    baseUrl,
    keep: cfg.keep ?? 3,
    repoName: (platform) => pattern.split('{platform}').join(platform),
    rsync: cfg.rsync ?? {},
  };
}
