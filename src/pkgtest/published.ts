import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../core/config.js';
import { asPatchlineError } from '../core/errors.js';
import { PACKAGES_DIR, liveGeneration, readManifest, type ManifestEntry } from '../publish/generations.js';
import { publishSettings } from '../publish/settings.js';
import type { PublishTarget } from '../publish/layout.js';

/** A package of the repo that serves a platform now. */
export interface PublishedRpm extends ManifestEntry {
  /** The RPM file in the serving generation, absolute. */
  path: string;
}

export interface ServingRepo {
  /** The generation dir serving now (a yum repo dnf can read), absent when nothing was published on the platform. */
  dir?: string;
  packages: PublishedRpm[];
}

/**
 * What the publish destination serves now for a platform and repo/branch (publish.layout): its
 * live generation and the packages of its manifest (a remote destination is read from its local
 * mirror, which publish keeps).
 */
export function servingRepo(loaded: LoadedConfig, target: PublishTarget): ServingRepo {
  try {
    const s = publishSettings(loaded);
    const live = liveGeneration(s.root, s.target(target).key);
    if (!live) return { packages: [] };
    const dir = join(s.root, live);
    if (!existsSync(dir)) return { packages: [] };
    return { dir, packages: readManifest(dir).map((e) => ({ ...e, path: join(dir, PACKAGES_DIR, e.file) })) };
  } catch (err) {
    throw asPatchlineError(err, 'EPUBLISH');
  }
}
