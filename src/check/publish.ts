/** The publish destination can take the repos: a local directory writable (or makeable), a remote one reachable. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rsyncTree } from '../publish/rsync.js';
import { publishSettings } from '../publish/settings.js';
import type { LoadedConfig } from '../core/config.js';
import { unwritableDir } from './files.js';
import { reason, type CheckProblem } from './problem.js';

export async function publishProblems(loaded: LoadedConfig): Promise<CheckProblem[]> {
  const where = loaded.config.publish?.destination !== undefined ? 'publish.destination' : 'stateDir';
  let settings;
  try {
    settings = publishSettings(loaded);
  } catch (err) {
    return [{ where: 'publish', message: reason(err) }];
  }
  // (a platform or layout taking the status page's name is refused when the config loads: config-checks.ts)
  const problems: CheckProblem[] = [];
  // a remote destination is built in a local mirror first
  const local = unwritableDir(settings.root);
  if (local) problems.push({ where: settings.remote ? 'stateDir' : where, message: `${settings.root}: ${local}` });
  if (settings.remote) {
    const empty = mkdtempSync(join(tmpdir(), 'patchline-check-'));
    try {
      // a dry run of the upload: ssh reaches the host and rsync runs there (nothing is written)
      await rsyncTree(empty, settings.remote, { ...settings.rsync, options: [...(settings.rsync.options ?? []), '--dry-run'], delete: false });
    } catch (err) {
      problems.push({ where, message: `${settings.remote}: ${reason(err)}` });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }
  return problems;
}
