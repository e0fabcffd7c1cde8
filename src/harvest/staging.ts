/**
 * Staging: while the sources are still being read, the parse worker writes each patch's and
 * cover's archive files (.eml, .patch, and an empty series.json per directory) into the scratch
 * dir, one directory per likely series, under their final names. Once the seen-store is on disk, a series whose staged directory holds
 * exactly its files becomes its archive directory by one rename; any other is assembled from the
 * staged files (renames) or written from the seen-store.
 *
 * Why: creating tens of thousands of small files is the harvest's largest cost on a busy disk.
 * Staging moves that work off the critical path, onto a second core, during the fetch
 * (docs/decisions/harvest-staging.md). The archive still changes only after the seen-store is
 * saved, and the scratch dir is emptied at the start of every run, so crash safety is unchanged.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Config } from '../core/config-types.js';
import { isErrno } from '../core/errors.js';
import { classifyMessage } from './classify.js';
import type { MessageFacts } from './examine.js';
import type { Extraction } from './mail/types.js';
import { addTrailers, renderPatchParts } from './patch-file.js';
import { COVER_EML, patchFileName, seriesGroupKey } from './series.js';
import { scratchDir } from './state/seen-store.js';
import type { MessageRecord } from './state/records.js';

/** Where a message's files were staged, relative to the stage root. */
export interface StagedFiles {
  /** Set when every file landed in the group directory under its final name. */
  dir?: string;
  eml: string;
  /** Patches only. */
  patch?: string;
  /** Patches only: the byte span of the commit message in the .patch (where review trailers go). */
  body?: [number, number];
  /** Patches only: the size of the .patch as staged (before any review trailer was added). */
  length?: number;
}

/**
 * A staged patch with review trailers added. The file may already carry them (a redo after a
 * thread died midway): whatever it grew by since staging grew the commit message, so the span
 * is widened by that, and adding trailers that are there changes nothing.
 */
export function stagedWithTrailers(file: Buffer, staged: { body: readonly [number, number]; length: number }, trailers: string[]): Buffer {
  return addTrailers(file, [staged.body[0], staged.body[1] + file.length - staged.length], trailers);
}

export function stageRoot(stateDir: string): string {
  return join(scratchDir(stateDir), 'stage');
}

/** FNV-1a over the UTF-16 code units, from `seed`. */
function fnv1a(s: string, seed: number): string {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The group's directory name: the same in every worker. Not a cryptographic hash (a sha256 per
 * message cost the worker ~5% of its time): two groups that meet in one directory only mean
 * neither is staged whole (its file count is off), and a name taken twice goes to `loose/`.
 */
function stageDirName(groupKey: string): string {
  return fnv1a(groupKey, 0x811c9dc5) + fnv1a(groupKey, 0x2f1e6d3b);
}

/**
 * Write a new file; false when the name is taken (another message, or another worker, got there
 * first). open/write/close by hand: writeFileSync's option handling was a tenth of the cost.
 */
function writeNew(path: string, data: Buffer | Uint8Array): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Stage the archive files of one message when it will be a patch or a cover (the same
 * classification the harvest makes: it needs no seen-store). Duplicates and name clashes go to
 * `loose/`, so a group directory only ever holds one message per file name.
 */
export function stageMessage(root: string, seq: number, raw: Uint8Array, facts: MessageFacts, extraction: Extraction, config: Config): StagedFiles | undefined {
  const { headers, parsed } = facts;
  if (!parsed) return undefined;
  const c = classifyMessage(headers, parsed, { config, unusable: parsed.unusable });
  if ((c.bucket !== 'patch' && c.bucket !== 'cover') || !c.tag || !c.route) return undefined;
  const number = c.tag.number ?? 1;
  const total = c.tag.total ?? 1;
  const record: MessageRecord = {
    key: facts.key,
    bucket: c.bucket,
    where: '',
    harvestedAt: '',
    subject: headers.subject,
    route: c.route,
    version: c.tag.version,
    number,
    total,
    references: headers.references,
    ...(headers.inReplyTo ? { inReplyTo: headers.inReplyTo } : {}),
    ...(headers.from ? { from: headers.from } : {}),
  };
  // without the seen-store a chained thread cannot be followed: such parts land in other dirs and are assembled
  const dir = stageDirName(seriesGroupKey(record, new Map()));
  const base = c.bucket === 'cover' ? COVER_EML.replace(/\.eml$/, '') : patchFileName(number, parsed.subject);
  const patch = c.bucket === 'patch' ? renderPatchParts(extraction, { messageId: facts.key, number, total }) : undefined;
  // series.json too: the harvest then fills an existing file instead of creating one on the critical path
  if (makeDir(join(root, dir))) writeNew(join(root, dir, 'series.json'), Buffer.alloc(0));
  if (writeNew(join(root, dir, `${base}.eml`), raw)) {
    if (!patch) return { dir, eml: `${dir}/${base}.eml` };
    if (writeNew(join(root, dir, `${base}.patch`), patch.bytes)) return { dir, eml: `${dir}/${base}.eml`, patch: `${dir}/${base}.patch`, body: patch.body, length: patch.bytes.length };
    writeLoose(root, `${seq}-${base}.patch`, patch.bytes);
    return { eml: `${dir}/${base}.eml`, patch: `loose/${seq}-${base}.patch`, body: patch.body, length: patch.bytes.length };
  }
  writeLoose(root, `${seq}-${base}.eml`, raw);
  if (!patch) return { eml: `loose/${seq}-${base}.eml` };
  writeLoose(root, `${seq}-${base}.patch`, patch.bytes);
  return { eml: `loose/${seq}-${base}.eml`, patch: `loose/${seq}-${base}.patch`, body: patch.body, length: patch.bytes.length };
}

/** Directories this thread made (another worker making the same one is fine: EEXIST). */
const made = new Set<string>();
/** true when this call made it. */
function makeDir(path: string): boolean {
  if (made.has(path)) return false;
  made.add(path);
  return mkdirSync(path, { recursive: true }) !== undefined;
}

function writeLoose(root: string, name: string, data: Buffer | Uint8Array): void {
  makeDir(join(root, 'loose'));
  writeFileSync(join(root, 'loose', name), data);
}

/** Review trailers to add to a staged patch file (see {@link stagedWithTrailers}). */
export interface TrailerEdit {
  file: string;
  body: [number, number];
  length: number;
  trailers: string[];
}

/** One part of a series as its directory names it. */
export interface ExpectedPart {
  key: string;
  eml: string;
  patch?: string;
}

/** The harvest's view of what the worker staged (main thread). */
export class StagedArchive {
  private readonly byKey = new Map<string, StagedFiles>();
  /** Files staged per group directory, by every message (duplicates included). */
  private readonly filesIn = new Map<string, number>();

  constructor(readonly root: string) {}

  /** Every staged report, kept or not: a duplicate's files count against its directory. */
  note(staged: StagedFiles): void {
    if (staged.dir === undefined) return;
    this.filesIn.set(staged.dir, (this.filesIn.get(staged.dir) ?? 0) + (staged.patch ? 2 : 1));
  }

  /** The staged files of a message the harvest kept as a part. */
  keep(key: string, staged: StagedFiles): void {
    this.byKey.set(key, staged);
  }

  path(key: string, kind: 'eml' | 'patch'): string | undefined {
    const rel = this.byKey.get(key)?.[kind];
    return rel === undefined ? undefined : join(this.root, rel);
  }

  /**
   * The staged patch of a kept part with these review trailers added (staging renders without
   * them: they may come from later mail); undefined when none was staged.
   */
  patchWithTrailers(key: string, trailers: string[]): Buffer | undefined {
    const edit = this.trailerEdit(key, trailers);
    return edit && stagedWithTrailers(readFileSync(edit.file), edit, trailers);
  }

  /** What adding review trailers to a kept part's staged patch takes (undefined when none was staged). */
  trailerEdit(key: string, trailers: string[]): TrailerEdit | undefined {
    const staged = this.byKey.get(key);
    if (staged?.patch === undefined || staged.body === undefined || staged.length === undefined) return undefined;
    return { file: join(this.root, staged.patch), body: staged.body, length: staged.length, trailers };
  }

  /** The staged directory that holds exactly these parts under these names, if one does. */
  wholeDir(parts: ExpectedPart[]): string | undefined {
    const dir = parts.length > 0 ? this.byKey.get(parts[0]!.key)?.dir : undefined;
    if (dir === undefined) return undefined;
    let files = 0;
    for (const part of parts) {
      const staged = this.byKey.get(part.key);
      if (staged?.dir !== dir || basename(staged.eml) !== part.eml) return undefined;
      if ((staged.patch === undefined ? undefined : basename(staged.patch)) !== part.patch) return undefined;
      files += part.patch ? 2 : 1;
    }
    return this.filesIn.get(dir) === files ? join(this.root, dir) : undefined;
  }
}
