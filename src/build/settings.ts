import type { BuildConfig, LoadedConfig, PlatformConfig } from '../core/config.js';
import { resolveFrom } from '../core/config.js';
import { fillPlaceholders, type RELEASE_PLACEHOLDERS } from '../core/config-checks.js';
import { defaultProfileFiles } from '../koji/profile.js';

/** The build section with its defaults applied (resources/schemas/config/build.schema.json). */
export interface BuildSettings {
  platforms: PlatformConfig[];
  kojiConfigFiles: string[];
  kojiProfile: string;
  kojiPassword: BuildConfig['kojiPassword'];
  pollIntervalMs: number;
  scratch: boolean;
  priority?: number;
  channel?: string;
  submit: 'srpm' | 'scm';
  scmUrl?: string;
  release: string;
  version: 'spec' | 'git-describe';
  packager: string;
  retries: number;
  timeoutMs: number;
  /** Where rpmspec/rpmbuild run on a spec from the mail (docs/decisions/build-sandbox.md). */
  sandbox: 'bwrap' | 'none';
}

/** Without platforms in the config, one local rpmbuild platform: the embedded default. */
export const DEFAULT_PLATFORM: PlatformConfig = { name: 'local', builder: 'local' };

export function buildSettings(loaded: LoadedConfig, opts: { scratch?: boolean } = {}): BuildSettings {
  const b = loaded.config.build ?? {};
  return {
    platforms: loaded.config.platforms ?? [DEFAULT_PLATFORM],
    kojiConfigFiles: b.kojiConfig ? [resolveFrom(loaded.baseDir, b.kojiConfig)] : defaultProfileFiles(),
    kojiProfile: b.kojiProfile ?? 'koji',
    kojiPassword: b.kojiPassword,
    pollIntervalMs: (b.pollInterval ?? 30) * 1000,
    scratch: opts.scratch === true || b.scratch === true,
    priority: b.priority,
    channel: b.channel,
    submit: b.submit ?? 'srpm',
    scmUrl: b.scmUrl,
    // the commit's UTC date and time first: a later commit always gives a higher Release (rpm's version comparison)
    release: b.release ?? '0.{datetime}.git{shortsha}',
    version: b.version ?? 'spec',
    packager: b.packager ?? 'patchline <patchline@localhost>',
    retries: b.retries ?? 5,
    timeoutMs: (b.timeout ?? 120) * 1000,
    sandbox: b.sandbox ?? 'bwrap',
  };
}

/** `0.{datetime}.git{shortsha}` → `0.20261121093000.git1a2b3c4` (`{date}` alone: `20261121`). */
export function snapshotRelease(pattern: string, commit: { sha: string; date: Date }): string {
  const values: Record<(typeof RELEASE_PLACEHOLDERS)[number], string> = {
    date: commit.date.toISOString().slice(0, 10).replace(/-/g, ''),
    datetime: commit.date.toISOString().slice(0, 19).replace(/[-:T]/g, ''),
    shortsha: commit.sha.slice(0, 7),
    sha: commit.sha,
  };
  return fillPlaceholders(pattern, values);
}

/** A series id as a directory name. */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 120);
}
