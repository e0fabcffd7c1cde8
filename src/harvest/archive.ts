/**
 * The archive: `<state>/archive/YYYY-MM-DD/<repo>/<branch>/<series-id>/` with each original
 * .eml, the git-am-able `NNNN-<slug>.patch` files and series.json. A series directory is built
 * in the scratch dir from the seen-store and renamed into place, so it is always whole.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isErrno } from '../core/errors.js';
import type { Series, SeriesPatch } from './series.js';
import { scratchName, type OriginalRef } from './state/seen-store.js';

export const COVER_EML = '0000-cover-letter.eml';

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
      ...(s.supersededBy ? { supersededBy: s.supersededBy } : {}),
      subject: s.subject,
      ...(s.submitter ? { submitter: s.submitter } : {}),
      day: s.day,
      ...(s.cover ? { cover: { messageId: s.cover.key, eml: COVER_EML, ...(s.cover.date ? { date: s.cover.date } : {}) } } : {}),
      patches: s.patches.map((p) => ({
        number: p.number,
        messageId: p.record.key,
        file: `${p.name}.patch`,
        eml: `${p.name}.eml`,
        author: p.record.author ?? p.record.from ?? { name: '', email: '' },
        ...(p.record.authorDate ? { date: p.record.authorDate } : {}),
        subject: p.record.commitSubject ?? p.record.subject,
        trailers: p.trailers,
      })),
    },
    null,
    2,
  ) + '\n';
}

/** Write a series directory whole: built aside, then renamed over the old one. Sync I/O: fs/promises costs several times more per small file. */
export function writeSeriesDir(stateDir: string, s: Series, renderPatch: (p: SeriesPatch) => string | Buffer, original: (ref: OriginalRef) => Buffer): void {
  const build = scratchName(stateDir);
  mkdirSync(build);
  if (s.cover?.original) writeFileSync(join(build, COVER_EML), original(s.cover.original));
  for (const p of s.patches) {
    const base = p.name;
    if (p.record.original) writeFileSync(join(build, `${base}.eml`), original(p.record.original));
    writeFileSync(join(build, `${base}.patch`), renderPatch(p));
  }
  writeFileSync(join(build, 'series.json'), seriesJson(s));
  const final = join(stateDir, s.dir);
  mkdirSync(dirname(final), { recursive: true });
  if (existsSync(final)) {
    const old = scratchName(stateDir);
    renameSync(final, old);
    renameSync(build, final);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(build, final);
  }
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
