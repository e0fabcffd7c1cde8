import { join } from 'node:path';
import { resolveFrom, type LoadedConfig } from '../core/config.js';
import type { PlatformConfig, TestCommandConfig } from '../core/config-types.js';
import { PatchlineError } from '../core/errors.js';
import { RESOURCES_DIR } from '../core/paths.js';

export type InstallMode = 'dnf' | 'rpm' | 'none';

export interface TestCommand {
  name: string;
  argv: string[];
  timeoutSeconds: number;
}

/** What the checks of one repo on one platform use, defaults applied and paths resolved. */
export interface TestSettings {
  rpmlint: boolean;
  /** patchline's rpmlint config (resources/rpmlint/patchline.toml): drops the findings every snapshot build has. */
  rpmlintConfig: string;
  /** The repo's rpmlintrc, absolute. */
  rpmlintrc?: string;
  install: InstallMode;
  /** Base repos for dnf: URLs, or absolute local paths. */
  baseRepos: string[];
  commands: TestCommand[];
}

export const DEFAULT_TIMEOUT = 300;
export const RPMLINT_CONFIG = join(RESOURCES_DIR, 'rpmlint', 'patchline.toml');

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/** A test command's argv: the array as given, or the string split on spaces (no shell). */
export function commandArgv(c: TestCommandConfig): string[] {
  return Array.isArray(c.run) ? [...c.run] : c.run.trim().split(/\s+/);
}

export function testSettings(loaded: LoadedConfig, repo: string, platform: PlatformConfig): TestSettings {
  const { config, baseDir } = loaded;
  const t = config.test ?? {};
  const r = config.repos[repo];
  const seen = new Set<string>();
  const commands = (r?.tests ?? []).map((c) => {
    if (seen.has(c.name)) throw new PatchlineError('ECONFIG', `repos.${repo}.tests: two tests are named ${c.name} (names are JUnit test cases: make them unique)`, { input: loaded.file });
    seen.add(c.name);
    return { name: c.name, argv: commandArgv(c), timeoutSeconds: c.timeout ?? t.timeout ?? DEFAULT_TIMEOUT };
  });
  const baseRepos = (platform.repos ?? []).map((u) => (isUrl(u) ? u : resolveFrom(baseDir, u)));
  return {
    rpmlint: t.rpmlint ?? true,
    rpmlintConfig: RPMLINT_CONFIG,
    ...(r?.rpmlintrc ? { rpmlintrc: resolveFrom(baseDir, r.rpmlintrc) } : {}),
    install: t.install ?? (baseRepos.length > 0 ? 'dnf' : 'rpm'),
    baseRepos,
    commands,
  };
}
