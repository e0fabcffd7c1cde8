/**
 * The archive: `<state>/archive/YYYY-MM-DD/<repo>/<branch>/<series-id>/` with each original
 * .eml, the git-am-able `NNNN-<slug>.patch` files and series.json. A series directory is built
 * in the scratch dir from the seen-store and renamed into place, so it is always whole.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isErrno } from '../core/errors.js';
import { COVER_EML, type Series, type SeriesPatch } from './series.js';
import { stagedWithTrailers, type ExpectedPart, type StagedArchive, type TrailerEdit } from './staging.js';
import type { PatchResult } from './types.js';
import { scratchName, type OriginalRef } from './state/seen-store.js';

export { COVER_EML };

/** series.json: a pure function of the series (no run times), so re-runs write the same bytes. */
export function seriesJson(s: Series): string {
  return JSON.stringify(
    {
      id: s.id,
      repo: s.repo,
      branch: s.branch,
      version: s.version,
      total: s.total,
      status: s.status,
      ...(s.missing.length ? { missing: s.missing } : {}),
      ...(s.beyondTotal.length ? { beyondTotal: s.beyondTotal } : {}),
      ...(s.supersededBy ? { supersededBy: s.supersededBy } : {}),
      subject: s.subject,
      ...(s.submitter ? { submitter: s.submitter } : {}),
      day: s.day,
      ...(s.cover ? { cover: { messageId: s.cover.key, eml: COVER_EML, ...(s.cover.date ? { date: s.cover.date } : {}) } } : {}),
      patches: s.patches.map((p) => patchEntry(p, '', true)),
    },
    null,
    2,
  ) + '\n';
}

/** One patch as series.json and harvest.json list it: files named under `at` (a directory with its slash, or ''). */
export function patchEntry(p: SeriesPatch, at: string, withEml: boolean): PatchResult {
  return {
    number: p.number,
    messageId: p.record.key,
    file: `${at}${p.name}.patch`,
    ...(withEml ? { eml: `${at}${p.name}.eml` } : {}),
    author: p.record.author ?? p.record.from ?? { name: '', email: '' },
    ...(p.record.authorDate ? { date: p.record.authorDate } : {}),
    subject: p.record.commitSubject ?? p.record.subject,
    trailers: p.trailers,
  };
}

/** Move a staged file into place, or write it when nothing usable was staged. */
function moveOrWrite(staged: string | undefined, to: string, data: () => string | Buffer): void {
  if (staged !== undefined) {
    try {
      renameSync(staged, to);
      return;
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
  writeFileSync(to, data());
}

/** Rename a built directory to its place, over the old one if there is one. */
function putInPlace(stateDir: string, build: string, final: string, parentMade = false): void {
  try {
    renameSync(build, final);
    return;
  } catch (err) {
    if (isErrno(err, 'ENOENT') && !parentMade) {
      mkdirSync(dirname(final), { recursive: true });
      return putInPlace(stateDir, build, final, true);
    }
    if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST')) throw err;
  }
  const old = scratchName(stateDir);
  renameSync(final, old);
  renameSync(build, final);
  rmSync(old, { recursive: true, force: true });
}

/**
 * A staged directory that holds exactly one series' files, and what makes it that series'
 * directory: review trailers, series.json, one rename. Either thread can do it, and doing it
 * again after a thread died midway is safe (see {@link placeSeriesDir}).
 */
export interface PlaceJob {
  /** The staged directory (absolute). */
  build: string;
  /** The series directory, relative to the state dir. */
  dir: string;
  seriesJson: string;
  /** Staged patches that get review trailers (staging renders without them: they may come from later mail). */
  trailers: TrailerEdit[];
}

/** The job that turns a staged directory into this series' directory; undefined when no staged directory holds exactly its files. */
export function placeJob(s: Series, staged: StagedArchive | undefined): PlaceJob | undefined {
  if (!staged) return undefined;
  const parts: ExpectedPart[] = [
    ...(s.cover?.original ? [{ key: s.cover.key, eml: COVER_EML }] : []),
    ...s.patches.filter((p) => p.record.original).map((p) => ({ key: p.record.key, eml: `${p.name}.eml`, patch: `${p.name}.patch` })),
  ];
  if (parts.length !== s.patches.length + (s.cover ? 1 : 0)) return undefined;
  const build = staged.wholeDir(parts);
  if (build === undefined) return undefined;
  const trailers: TrailerEdit[] = [];
  for (const p of s.patches) {
    if (p.trailers.length === 0) continue;
    const edit = staged.trailerEdit(p.record.key, p.trailers);
    if (!edit) return undefined;
    trailers.push(edit);
  }
  return { build, dir: s.dir, seriesJson: seriesJson(s), trailers };
}

/**
 * Make a staged directory a series directory. Once its rename is done the staged directory is
 * gone, so a job whose `build` no longer exists is done; one whose `build` exists may be done
 * again from the start (trailers are added once, series.json is rewritten, the rename follows).
 */
export function placeSeriesDir(stateDir: string, job: PlaceJob): void {
  for (const edit of job.trailers) {
    const file = readFileSync(edit.file);
    const updated = stagedWithTrailers(file, edit, edit.trailers);
    if (updated !== file) writeFileSync(edit.file, updated);
  }
  writeFileSync(join(job.build, 'series.json'), job.seriesJson);
  putInPlace(stateDir, job.build, join(stateDir, job.dir));
}

/**
 * Write a series directory whole: built aside, then renamed over the old one. For a series no
 * staged directory holds whole ({@link placeJob} has none): files the parse worker staged are
 * moved in and the rest is written here. Sync I/O: fs/promises costs several times more per
 * small file.
 */
export function writeSeriesDir(stateDir: string, s: Series, renderPatch: (p: SeriesPatch) => string | Buffer, original: (ref: OriginalRef) => Buffer, staged?: StagedArchive): void {
  const build = scratchName(stateDir);
  mkdirSync(build);
  if (s.cover?.original) moveOrWrite(staged?.path(s.cover.key, 'eml'), join(build, COVER_EML), () => original(s.cover!.original!));
  for (const p of s.patches) {
    const base = p.name;
    if (p.record.original) moveOrWrite(staged?.path(p.record.key, 'eml'), join(build, `${base}.eml`), () => original(p.record.original!));
    moveOrWrite(p.trailers.length === 0 ? staged?.path(p.record.key, 'patch') : undefined, join(build, `${base}.patch`), () => renderPatch(p));
  }
  writeFileSync(join(build, 'series.json'), seriesJson(s));
  putInPlace(stateDir, build, join(stateDir, s.dir));
}

/** Remove a series directory that moved (its day or id changed), and the parents it leaves empty. */
export function removeSeriesDir(stateDir: string, rel: string): void {
  const dir = join(stateDir, rel);
  if (existsSync(dir)) {
    const old = scratchName(stateDir);
    renameSync(dir, old);
    rmSync(old, { recursive: true, force: true });
  }
  const archiveRoot = join(stateDir, 'archive');
  for (let parent = dirname(dir); parent.startsWith(archiveRoot + '/'); parent = dirname(parent)) {
    try {
      if (readdirSync(parent).length > 0) break;
      rmdirSync(parent);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) continue;
      throw err;
    }
  }
}

/**
 * Put the run's series directories into the run dir too (`<run>/archive/...`, hard links where the
 * filesystem allows, copies otherwise), so the run dir alone holds what the run harvested: Jenkins
 * archives the run dir, and the state dir may live outside its workspace.
 */
export function linkSeriesIntoRunDir(stateDir: string, runDir: string, archiveDirs: string[]): void {
  for (const dir of archiveDirs) {
    const from = join(stateDir, dir);
    if (!existsSync(from)) continue;
    const to = join(runDir, dir);
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      const target = join(to, name);
      if (existsSync(target)) continue;
      try {
        linkSync(join(from, name), target);
      } catch {
        copyFileSync(join(from, name), target);
      }
    }
  }
}
