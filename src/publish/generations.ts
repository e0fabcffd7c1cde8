import { copyFileSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError, isErrno } from '../core/errors.js';
import { tempNameFor, writeJsonAtomic } from '../core/fsutil.js';
import type { PublishedPackage } from './types.js';

/**
 * The layout of a publish root: `<root>/<platform>` is a symlink the web server follows, to
 * one generation dir `<root>/<platform>.<run-id>` holding Packages/, repodata/, the .repo
 * file, index.html and packages.json (what each RPM is and which series it came from).
 */
export const PACKAGES_DIR = 'Packages';
const MANIFEST = 'packages.json';

export type ManifestEntry = Omit<PublishedPackage, 'url'>;

/** The generation serving now, or undefined when the platform was never published. */
export function liveGeneration(root: string, platform: string): string | undefined {
  const live = join(root, platform);
  let st;
  try {
    st = lstatSync(live);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  if (!st.isSymbolicLink()) {
    throw new PatchlineError('EPUBLISH', `${live} is not a symlink to a generation: move it away (patchline switches <platform> atomically as a symlink)`, { input: live });
  }
  return readlinkSync(live);
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

/** A fresh generation name: `<platform>.<run-id>`, suffixed when this run already published once. */
export function newGenerationName(root: string, platform: string, runId: string): string {
  let name = `${platform}.${runId}`;
  for (let n = 2; existsSync(join(root, name)); n++) name = `${platform}.${runId}-${n}`;
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

/** Point `<root>/<platform>` at the generation in one rename(): readers see the old repo or the new one. */
export function switchLive(root: string, platform: string, generation: string): void {
  const live = join(root, platform);
  const tmp = tempNameFor(live);
  symlinkSync(generation, tmp);
  try {
    renameSync(tmp, live);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Remove all but the newest `keep` generations of a platform; the live one always stays. */
export function pruneGenerations(root: string, platform: string, keep: number): string[] {
  const live = liveGeneration(root, platform);
  const prefix = `${platform}.`;
  const gens = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith(prefix) && !d.name.includes('.tmp-') && !d.name.slice(prefix.length).includes('.'))
    .map((d) => ({ name: d.name, mtime: statSync(join(root, d.name)).mtimeMs }))
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
