import { runTool } from './tool.js';

/**
 * Write yum metadata (repodata/) for the RPMs in `dir` with createrepo_c. `update` reuses the
 * metadata copied from the previous generation for unchanged RPMs. Any unreadable RPM fails the
 * run (`--error-exit-val`) instead of being silently left out.
 */
export async function createRepoMetadata(dir: string, opts: { update: boolean }): Promise<void> {
  const args = ['--quiet', '--error-exit-val', '--no-database', ...(opts.update ? ['--update'] : []), dir];
  await runTool('createrepo_c', args, { code: 'EPUBLISH', input: dir });
}
