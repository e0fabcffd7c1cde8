/**
 * A full disk under the publish destination: a tiny tmpfs mounted there (root, where mount is
 * allowed), grown once the outage ends; elsewhere a simulation: the destination replaced by a
 * plain file, so every write under it fails, and put back afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mount = (args: string[]) => spawnSync('mount', args, { encoding: 'utf8' });

/** Whether this machine lets us mount a tmpfs (tried once, on a scratch dir); PATCHLINE_TEST_NO_MOUNT=1 tries the simulation instead. */
export function tmpfsAllowed(): boolean {
  if (process.env.PATCHLINE_TEST_NO_MOUNT === '1') return false;
  const dir = mkdtempSync(join(tmpdir(), 'pl-mount-probe-'));
  try {
    if (mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status !== 0) return false;
    spawnSync('umount', [dir]);
    return true;
  } finally {
    rmdirSync(dir);
  }
}

export interface FullDisk {
  /** The disk has room again. */
  free(): void;
  /** Leave the dir as a plain directory again (unmount). */
  release(): void;
}

/** Make `dir` (an empty directory) a full disk. */
export function fillDisk(dir: string, useTmpfs: boolean): FullDisk {
  if (useTmpfs) {
    const r = mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    if (r.status !== 0) throw new Error(`mount tmpfs on ${dir}: ${r.stderr}`);
    let mounted = true;
    return {
      free() {
        const g = mount(['-o', 'remount,size=64m', dir]);
        if (g.status !== 0) throw new Error(`remount ${dir}: ${g.stderr}`);
      },
      release() {
        if (mounted) spawnSync('umount', ['-l', dir]);
        mounted = false;
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(dir, 'not a directory: the publish destination is unwritable during the outage\n');
  const free = () => {
    rmSync(dir, { force: true });
    mkdirSync(dir, { recursive: true });
  };
  return { free, release: () => undefined };
}

/** How the disk is made full, for the test's name. */
export const diskHow = (useTmpfs: boolean): string => (useTmpfs ? 'a 64 KiB tmpfs, grown to 64 MiB after' : 'simulated, no mount allowed here: the destination a plain file, then a dir again');
