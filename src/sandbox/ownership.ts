import { chmodSync, lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every entry under `dir` (itself first), without following a symbolic link. */
function walk(dir: string, visit: (path: string) => void): void {
  visit(dir);
  if (!lstatSync(dir).isDirectory()) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, visit);
    else visit(path);
  }
}

/** The work dir given to the sandbox user (root mode: the build writes as SANDBOX_ID). */
export function handOver(dir: string, uid: number, gid: number): void {
  walk(dir, (path) => lchownSync(path, uid, gid));
}

/**
 * The work dir taken back after the command (and every process it started) ended: owned by
 * patchline again (`owner`, root mode) and no entry writable by others or set-id, so nothing
 * the build left (a 0777 dir, a setuid file) lets anyone change its RPMs before they are published.
 */
export function takeBack(dir: string, owner?: { uid: number; gid: number }): void {
  walk(dir, (path) => {
    if (owner) lchownSync(path, owner.uid, owner.gid);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    const mode = st.mode & 0o7777;
    // a dir the build made unreadable (chmod 000) is opened again before walking into it
    const safe = (mode & ~0o7022) | (st.isDirectory() ? 0o700 : 0);
    if (safe !== mode) chmodSync(path, safe);
  });
}

/**
 * Inputs patchline wrote (the spec, SOURCES) readable by the sandbox user even under a strict
 * umask (root's 027): they are the package's sources, which the RPM publishes anyway.
 */
export function makeReadable(dir: string): void {
  walk(dir, (path) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    const want = st.mode | (st.isDirectory() ? 0o055 : 0o044);
    if ((want & 0o7777) !== (st.mode & 0o7777)) chmodSync(path, want & 0o7777);
  });
}
