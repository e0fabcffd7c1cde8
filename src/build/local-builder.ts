import { join } from 'node:path';
import type { PlatformConfig } from '../core/config.js';
import { mockInstalled, rebuildWithMock, rebuildWithRpmbuild, type LocalBuildOutcome } from '../rpm/rebuild.js';
import { buildSrpm } from '../rpm/srpm.js';
import type { PreparedSource } from './source.js';
import type { BuildRecord } from './types.js';

/** One series on one platform: its record in build.json (filled in as the build goes) and its dir. */
export interface BuildJob {
  record: BuildRecord;
  platform: PlatformConfig;
  source: PreparedSource;
  /** <run dir>/build/<series>/<platform> */
  workDir: string;
}

/** The %dist a platform defines, when it names one. */
export function distDefines(platform: PlatformConfig): Record<string, string> {
  return platform.dist === undefined ? {} : { dist: platform.dist === '' ? '%{nil}' : platform.dist };
}

/**
 * The embedded default builder: `rpmbuild -bs` then `rpmbuild --rebuild`, both in the build
 * sandbox, into the job dir (or `mock -r` when the platform asks for it and mock is installed).
 */
export async function buildLocally(source: PreparedSource, platform: PlatformConfig, jobDir: string, log: (line: string) => void, signal?: AbortSignal): Promise<LocalBuildOutcome & { srpm: string }> {
  const defines = distDefines(platform);
  if (source.sandbox === 'none') log(`build.sandbox is none: the spec of commit ${source.commit.slice(0, 12)} runs on this host unconfined, as this user, with its network and files`);
  const srpm = await buildSrpm(source.specFile, source.sourceDir, jobDir, defines, source.sandbox);
  if (platform.mock !== undefined) {
    if (mockInstalled()) return { srpm, ...(await rebuildWithMock(srpm, platform.mock, join(jobDir, 'mock'), signal)) };
    log(`platform ${platform.name}: mock is not installed; building with rpmbuild`);
  }
  return { srpm, ...(await rebuildWithRpmbuild(srpm, jobDir, { defines, arch: platform.arch, signal, sandbox: source.sandbox })) };
}
