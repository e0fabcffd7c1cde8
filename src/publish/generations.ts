import { copyFileSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { PatchlineError, isErrno } from '../core/errors.js';
import { replaceSymlink, writeJsonAtomic } from '../core/fsutil.js';
import type { PublishedPackage } from './types.js';

/**
 * The layout of a publish root: each repo's key (publish.layout, e.g. `el9/qemu-master`) is a
 * symlink the web server follows, to one generation dir beside it (`el9/qemu-master.<run-id>`)
 * holding Packages/, repodata/, the .repo file, index.html and packages.json (what each RPM is
 * and which series it came from). The symlink's target is the generation's own name, so the
 * tree stays valid wherever it is copied (rsync to a web server).
 * Generations are named by their path relative to the root.
 */
export const PACKAGES_DIR = 'Packages';
const MANIFEST = 'packages.json';
/** The suffix of a generation: `.<run id>` (the run dir's name), `-N` when a run published twice; not a temp name. */
const GENERATION_SUFFIX = /^\.(?!tmp-)[A-Za-z0-9_-]+$/;

export type ManifestEntry = Omit<PublishedPackage, 'url'>;

/** The parent dirs of a key must be dirs: a symlink there is a repo of another layout (one repo per platform, before 0.2). */
function assertRealParents(root: string, key: string): void {
  let dir = root;
  for (const part of key.split('/').slice(0, -1)) {
    dir = join(dir, part);
    let st;
    try {
      st = lstatSync(dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    if (st.isSymbolicLink() || !st.isDirectory()) {
      throw new PatchlineError(
        'EPUBLISH',
        `${dir} is a repo of another layout (publish.layout puts repos under it: ${key}): set publish.layout: "{platform}" to keep one repo per platform, or move ${dir} and its generations away`,
        { input: dir },
      );
    }
  }
}

/** The generation serving `key` now (relative to the root), or undefined when it was never published. */
export function liveGeneration(root: string, key: string): string | undefined {
  const live = join(root, key);
  let st;
  try {
    st = lstatSync(live);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
  if (!st.isSymbolicLink()) {
    throw new PatchlineError('EPUBLISH', `${live} is not a symlink to a generation: move it away (patchline switches each repo atomically as a symlink)`, { input: live });
  }
  const target = readlinkSync(live);
  // a target with a slash was not made by patchline: follow it only inside the same dir
  return posix.join(posix.dirname(key), basename(target));
}

export function readManifest(genDir: string): ManifestEntry[] {
  try {
    return JSON.parse(readFileSync(join(genDir, MANIFEST), 'utf8')) as ManifestEntry[];
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw new PatchlineError('EPUBLISH', `cannot read ${MANIFEST} of ${genDir}: ${(err as Error).message}`, { input: genDir });
  }
}

export function writeManifest(genDir: string, entries: ManifestEntry[]): void {
  writeJsonAtomic(join(genDir, MANIFEST), entries);
}

/** A fresh generation of `key` (relative to the root): `<key>.<run-id>`, suffixed when this run already published once. */
export function newGenerationName(root: string, key: string, runId: string): string {
  assertRealParents(root, key);
  let name = `${key}.${runId}`;
  for (let n = 2; existsSync(join(root, name)); n++) name = `${key}.${runId}-${n}`;
  return name;
}

/** Hardlink when the filesystem allows (no copy of big RPMs), else copy. */
export function linkOrCopy(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch (err) {
    if (!isErrno(err, 'EXDEV') && !isErrno(err, 'EPERM') && !isErrno(err, 'EMLINK')) throw err;
    copyFileSync(from, to);
  }
}

/** Start a generation from the previous one: its RPMs (hardlinked) and its metadata (for createrepo_c --update). */
export function seedGeneration(genDir: string, previousDir: string | undefined): void {
  mkdirSync(join(genDir, PACKAGES_DIR), { recursive: true });
  if (!previousDir) return;
  const prevPackages = join(previousDir, PACKAGES_DIR);
  if (existsSync(prevPackages)) {
    for (const f of readdirSync(prevPackages)) linkOrCopy(join(prevPackages, f), join(genDir, PACKAGES_DIR, f));
  }
  if (existsSync(join(previousDir, 'repodata'))) cpSync(join(previousDir, 'repodata'), join(genDir, 'repodata'), { recursive: true });
}

/** Point `<root>/<key>` at the generation (beside it) in one rename(): readers see the old repo or the new one. */
export function switchLive(root: string, key: string, generation: string): void {
  replaceSymlink(join(root, key), basename(generation));
}

/** Remove all but the newest `keep` generations of a repo; the live one always stays. */
export function pruneGenerations(root: string, key: string, keep: number): string[] {
  const live = liveGeneration(root, key);
  const dir = join(root, dirname(key));
  const prefix = basename(key);
  const gens = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith(prefix) && GENERATION_SUFFIX.test(d.name.slice(prefix.length)))
    .map((d) => ({ name: posix.join(posix.dirname(key), d.name), mtime: statSync(join(dir, d.name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime || b.name.localeCompare(a.name));
  const removed: string[] = [];
  let kept = live ? 1 : 0;
  for (const g of gens) {
    if (g.name === live) continue;
    if (kept < keep) {
      kept++;
      continue;
    }
    rmSync(join(root, g.name), { recursive: true, force: true });
    removed.push(g.name);
  }
  return removed;
}
