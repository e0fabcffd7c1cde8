import { TRANSPORT_VARS } from '../core/child-env.js';
import { runTool } from './tool.js';

/** What rsync itself reads (a daemon password, its remote shell) and what its ssh needs. */
const RSYNC_VARS = new RegExp(`^RSYNC_(PASSWORD|RSH|PROXY|CONNECT_PROG)$|${TRANSPORT_VARS.source}`);

export interface RsyncOptions {
  /** Extra options from the config. */
  options?: string[];
  /** Remote shell (rsync --rsh). */
  rsh?: string;
  /** Patterns left out of this pass (--exclude). */
  exclude?: string[];
  /** Delete what the source no longer has (after the transfer, so nothing serving vanishes early). */
  delete: boolean;
}

/**
 * Mirror `sourceDir` onto `target` (a local path or `[user@]host:/path`). `--delay-updates`
 * puts every changed file in place at the end, so a half-copied file is never served.
 */
export async function rsyncTree(sourceDir: string, target: string, opts: RsyncOptions): Promise<void> {
  const args = [
    '-a',
    '--delay-updates',
    ...(opts.delete ? ['--delete-after'] : []),
    ...(opts.rsh ? ['--rsh', opts.rsh] : []),
    ...(opts.exclude ?? []).flatMap((p) => ['--exclude', p]),
    ...(opts.options ?? []),
    '--',
    sourceDir.endsWith('/') ? sourceDir : `${sourceDir}/`,
    target.endsWith('/') ? target : `${target}/`,
  ];
  await runTool('rsync', args, { code: 'EPUBLISH', input: target, passEnv: RSYNC_VARS });
}
