import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv } from '../core/child-env.js';
import { Sandbox, type SandboxDirs, type SandboxMode } from '../sandbox/sandbox.js';

/** Where rpm writes for a job (`_topdir`: SRPMS, RPMS, BUILD...): the sandbox's only writable dir. */
export function rpmTopdir(jobDir: string): string {
  return join(jobDir, 'rpmbuild');
}

let dbpath: string | null | undefined;

/** The host's rpm database (%_dbpath) when it lies outside /usr (Debian: ~/.rpmdb, EL: /var/lib/rpm). */
function hostDbpath(): string | null {
  if (dbpath !== undefined) return dbpath;
  // stdin not a socket (node's default 'pipe' is a socketpair): bash, run by this macro on Debian, then reads ~/.bashrc
  const r = spawnSync('rpm', ['--eval', '%{_dbpath}'], { encoding: 'utf8', env: childEnv({ LC_ALL: 'C' }), stdio: ['ignore', 'pipe', 'pipe'] });
  const path = r.status === 0 ? r.stdout.trim() : '';
  dbpath = path.startsWith('/') && !path.startsWith('/usr/') && existsSync(path) ? path : null;
  return dbpath;
}

/**
 * The sandbox an rpm tool runs in, and the defines that go with it: the host's rpm database is
 * an input (read-only), so BuildRequires are checked against what this host has installed.
 */
export function rpmSandbox(mode: SandboxMode, dirs: SandboxDirs): { box: Sandbox; defines: Record<string, string> } {
  if (mode === 'none') return { box: new Sandbox('none', dirs), defines: {} };
  const db = hostDbpath();
  const box = new Sandbox('bwrap', { ...dirs, inputs: [...(dirs.inputs ?? []), ...(db ? [db] : [])] });
  return { box, defines: db ? { _dbpath: box.path(db) } : {} };
}
