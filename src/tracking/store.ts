/**
 * The tracking stores under <state>/tracking/: items.json (tracking items keyed by repo + branch)
 * and reviews.json (one review record per upstream range). Each file is rewritten whole and
 * atomically (writeFileAtomic + a fsync of the dir): a reader or a crash sees the old file or
 * the new one. Writers (the CLI, `patchline serve`, scans) are serialized by a proper-lockfile
 * lock on the file, held only for the read-modify-write.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { PatchlineError, isErrno } from '../core/errors.js';
import { fsyncDir, writeJsonAtomic } from '../core/fsutil.js';
import type { ReviewRecord, TrackingItem } from './types.js';

export const trackingDir = (stateDir: string): string => join(stateDir, 'tracking');

/** An item key or review id as a file name under the tracking dir. */
export const fileSlug = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');

export interface ItemKey {
  repo: string;
  branch: string;
}

export const keyOf = (k: ItemKey): string => `${k.repo}/${k.branch}`;
const sameKey = (a: ItemKey, b: ItemKey): boolean => a.repo === b.repo && a.branch === b.branch;

interface ItemsFile {
  version: 1;
  items: TrackingItem[];
}

interface ReviewsFile {
  version: 1;
  reviews: ReviewRecord[];
}

function readJson<T>(path: string, empty: T): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return empty;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new PatchlineError('ETRACK', `cannot read ${path}: ${(err as Error).message}`, { input: path });
  }
}

// A write is a few milliseconds: wait long for a busy lock; one left by a killed process is stale after 10 s.
const LOCK_OPTS = { stale: 10_000, update: 2_000, realpath: false, retries: { retries: 400, minTimeout: 5, maxTimeout: 100, factor: 1.3 } };

/** Read-modify-write of one JSON file under its lock. */
async function update<T, R>(path: string, empty: T, change: (data: T) => R): Promise<R> {
  mkdirSync(join(path, '..'), { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, LOCK_OPTS);
  } catch (err) {
    throw new PatchlineError('ETRACK', `cannot lock ${path}: ${(err as Error).message}`, { input: path, cause: err });
  }
  try {
    const data = readJson(path, empty);
    const result = change(data);
    writeJsonAtomic(path, data);
    fsyncDir(join(path, '..'));
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}

const now = (): string => new Date().toISOString();

/** Tracking items of one state dir. */
export class ItemStore {
  readonly path: string;

  constructor(readonly stateDir: string) {
    this.path = join(trackingDir(stateDir), 'items.json');
  }

  list(filter: Partial<ItemKey> = {}): TrackingItem[] {
    return readJson<ItemsFile>(this.path, { version: 1, items: [] })
      .items.filter((i) => (filter.repo === undefined || i.repo === filter.repo) && (filter.branch === undefined || i.branch === filter.branch))
      .sort((a, b) => a.repo.localeCompare(b.repo) || a.branch.localeCompare(b.branch));
  }

  get(key: ItemKey): TrackingItem | undefined {
    return this.list(key)[0];
  }

  exists(): boolean {
    return existsSync(this.path);
  }

  /** Add an item or replace the one with its key (its lastCommit is kept unless the new one names one). */
  put(item: Omit<TrackingItem, 'createdAt' | 'updatedAt'>): Promise<TrackingItem> {
    return update<ItemsFile, TrackingItem>(this.path, { version: 1, items: [] }, (data) => {
      const old = data.items.find((i) => sameKey(i, item));
      const at = now();
      const lastCommit = item.lastCommit || old?.lastCommit;
      const next: TrackingItem = { ...item, ...(lastCommit ? { lastCommit } : {}), createdAt: old?.createdAt ?? at, updatedAt: at };
      if (!lastCommit) delete next.lastCommit;
      data.items = [...data.items.filter((i) => !sameKey(i, item)), next];
      return next;
    });
  }

  /** Change one item; throws ETRACK when there is none with that key. */
  modify(key: ItemKey, change: (item: TrackingItem) => void): Promise<TrackingItem> {
    return update<ItemsFile, TrackingItem>(this.path, { version: 1, items: [] }, (data) => {
      const item = data.items.find((i) => sameKey(i, key));
      if (!item) throw noItem(key);
      change(item);
      item.updatedAt = now();
      return { ...item };
    });
  }

  remove(key: ItemKey): Promise<void> {
    return update<ItemsFile, void>(this.path, { version: 1, items: [] }, (data) => {
      if (!data.items.some((i) => sameKey(i, key))) throw noItem(key);
      data.items = data.items.filter((i) => !sameKey(i, key));
    });
  }
}

export function noItem(key: ItemKey): PatchlineError {
  return new PatchlineError('ETRACK', `no tracking item for repo ${key.repo} branch ${key.branch} (see: patchline track list)`, { input: keyOf(key) });
}

/** Review records of one state dir: one per upstream range, never removed. */
export class ReviewStore {
  readonly path: string;

  constructor(readonly stateDir: string) {
    this.path = join(trackingDir(stateDir), 'reviews.json');
  }

  list(filter: Partial<ItemKey> = {}): ReviewRecord[] {
    return readJson<ReviewsFile>(this.path, { version: 1, reviews: [] }).reviews.filter((r) => (filter.repo === undefined || r.repo === filter.repo) && (filter.branch === undefined || r.branch === filter.branch));
  }

  get(id: string): ReviewRecord | undefined {
    return this.list().find((r) => r.id === id);
  }

  /** Insert or replace the record with this id. */
  put(record: Omit<ReviewRecord, 'createdAt' | 'updatedAt'> & { createdAt?: string }): Promise<ReviewRecord> {
    return update<ReviewsFile, ReviewRecord>(this.path, { version: 1, reviews: [] }, (data) => {
      const old = data.reviews.find((r) => r.id === record.id);
      const at = now();
      const next: ReviewRecord = { ...record, createdAt: old?.createdAt ?? record.createdAt ?? at, updatedAt: at };
      data.reviews = [...data.reviews.filter((r) => r.id !== record.id), next];
      return next;
    });
  }

  /** Forget a record whose attempt left nothing behind (its branch deleted, no mail out): the range is redone. */
  drop(id: string): Promise<void> {
    return update<ReviewsFile, void>(this.path, { version: 1, reviews: [] }, (data) => {
      data.reviews = data.reviews.filter((r) => r.id !== id);
    });
  }
}
