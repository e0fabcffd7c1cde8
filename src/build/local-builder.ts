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
 * The embedded default builder: `rpmbuild -bs` then `rpmbuild --rebuild` into the platform's
 * own topdir (or `mock -r` when the platform asks for it and mock is installed).
 */
export async function buildLocally(source: PreparedSource, platform: PlatformConfig, topdir: string, log: (line: string) => void, signal?: AbortSignal): Promise<LocalBuildOutcome & { srpm: string }> {
  const defines = distDefines(platform);
  const srpm = await buildSrpm(source.specFile, source.sourceDir, topdir, defines);
  if (platform.mock !== undefined) {
    if (mockInstalled()) return { srpm, ...(await rebuildWithMock(srpm, platform.mock, join(topdir, 'mock'), signal)) };
    log(`platform ${platform.name}: mock is not installed; building with rpmbuild`);
  }
  return { srpm, ...(await rebuildWithRpmbuild(srpm, topdir, { defines, arch: platform.arch, signal })) };
}
