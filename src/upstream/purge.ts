import type { LoadedConfig } from '../core/config.js';
import { ExitCode } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { lockStateDir } from '../run/lock.js';
import { purgeRepos } from './repos.js';
import { upstreamSettings } from './settings.js';
import { openUpstreamStore } from './store.js';

/**
 * `patchline upstream purge`: per platform, repos older than upstream.keep go, except those
 * current/consistent point at and each project's newest success (the repo new repos link from).
 */
export async function purgeUpstream(loaded: LoadedConfig, opts: { wait?: string }, log: Logger): Promise<ExitCode> {
  const s = upstreamSettings(loaded);
  if (s.keep.days === undefined && s.keep.builds === undefined) {
    log.info('upstream purge: upstream.keep is not set: nothing removed');
    return ExitCode.ok;
  }
  const lock = await lockStateDir(loaded, { wait: opts.wait, command: `patchline upstream purge --config ${loaded.file}`, log, who: 'patchline upstream purge' });
  try {
    const store = openUpstreamStore(loaded.stateDir);
    const platforms = [...new Set(s.projects.flatMap((p) => p.platforms.map((pl) => pl.name)))];
    for (const platform of platforms) {
      const newest = s.projects.flatMap((p) => {
        const ok = store.ofProject(p.name).filter((r) => r.platform === platform && r.status === 'SUCCESS' && !r.bisect && r.repoPath).pop();
        return ok?.repoPath ? [ok.repoPath.slice(platform.length + 1)] : [];
      });
      const removed = await purgeRepos(s, platform, newest);
      log.info(`upstream purge: ${platform}: ${removed.length} repos removed`);
    }
    store.close();
    return ExitCode.ok;
  } finally {
    lock.release();
  }
}
