/** Shared by the harvest tests: the corpus, configs in temp dirs, running the step, snapshots of the archive. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { executeStep } from '../../src/core/step.js';
import { latestRunDir, readResult } from '../../src/core/results.js';
import type { HarvestResult } from '../../src/harvest/types.js';

export const CORPUS = join(process.cwd(), 'test', 'fixtures', 'corpus');
export const CORPUS_FILES = readdirSync(join(CORPUS, 'messages')).filter((f) => f.endsWith('.eml')).sort();

export interface ExpectedMessage {
  file: string;
  message_id: string;
  kind: string;
  series?: string;
  version?: number;
  number?: number;
  total?: number;
  from_name: string;
  from_email: string;
  commit_subject?: string;
  archive_day_utc: string;
  route: { repo: string; branch: string } | null;
}
export const EXPECTED = JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8')) as { messages: ExpectedMessage[] };

export function corpusMessage(file: string): Buffer {
  return readFileSync(join(CORPUS, 'messages', file));
}

const tempDirs: string[] = [];
/** A temp dir removed after the test file (PATCHLINE_KEEP_TEMP=1 keeps them for a post-mortem). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pl-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  if (!process.env.PATCHLINE_KEEP_TEMP) for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Write a patchline.yaml (repo nbdkit, branches master and stable-1.32) into `dir`. */
export function writeConfig(dir: string, sources: unknown[], extra: Record<string, unknown> = {}): string {
  const path = join(dir, 'patchline.yaml');
  writeFileSync(path, stringify({ sources, repos: { nbdkit: { url: 'https://gitlab.com/nbdkit/nbdkit.git', branches: ['master', 'stable-1.32'] } }, ...extra }));
  return path;
}

/** Run the harvest step in-process, as the CLI does; returns its exit code and harvest.json. */
export async function runHarvest(config: string, stateDir: string): Promise<{ code: number; result: HarvestResult }> {
  const code = await executeStep('harvest', { config, stateDir, quiet: true });
  return { code, result: readResult(latestRunDir(stateDir)!, 'harvest') };
}

/** Deliver `messages` into a Maildir's new/, in the given order (delivery order by name), numbered from `first`. */
export function writeMaildir(dir: string, messages: Buffer[], first = 0): string {
  for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  messages.forEach((m, i) => writeFileSync(join(dir, 'new', `${1700000000 + first + i}.M${first + i}P1.test`), m));
  return dir;
}

/** An mbox with `From ` separator lines, as the corpus all.mbox is written. */
export function mboxOf(messages: Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => [Buffer.from('From patchline@example.org Thu Jan  1 00:00:00 2026\n'), m, Buffer.from(m.at(-1) === 0x0a ? '\n' : '\n\n')]));
}

/** Every file under <state>/archive with the sha256 of its content. */
export function archiveSnapshot(stateDir: string): Record<string, string> {
  const root = join(stateDir, 'archive');
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(root, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(root);
  return out;
}

/** Every file under <state>/archive with its inode and mtime: what "archived again" would change. */
export function archiveStamps(stateDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of Object.keys(archiveSnapshot(stateDir))) {
    const st = statSync(join(stateDir, 'archive', rel));
    out[rel] = `${st.ino}:${st.mtimeMs}`;
  }
  return out;
}

/** What harvests made of their mail, independent of source names, positions and run times. */
export function outcomeOf(results: HarvestResult[]): { messages: string[]; series: unknown[] } {
  const messages = results.flatMap((r) => r.messages.map((m) => `${m.messageId} ${m.bucket} ${m.seriesId ?? ''}`)).sort();
  const byId = new Map<string, unknown>();
  for (const r of results) for (const s of r.series) byId.set(s.id, { ...s, firstArrival: undefined });
  return { messages, series: [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s) };
}

/** A small seeded PRNG (mulberry32): tests print the seed so a failure can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function testSeed(): number {
  const seed = process.env.PATCHLINE_SEED ? Number(process.env.PATCHLINE_SEED) : Math.floor(Math.random() * 2 ** 31);
  process.stdout.write(`seed ${seed} (replay with PATCHLINE_SEED=${seed})\n`);
  return seed;
}
