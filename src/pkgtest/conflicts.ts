import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import type { CheckResult } from './types.js';
import { compareWithHighest, readRpmIds, type RpmId } from './nvr.js';
import { rpmOnRoot } from './install.js';
import { logTail, readLog } from './process.js';
import type { PublishedRpm } from './published.js';

/** The newest published package of each name.arch, the names of the new packages left out (they replace them). */
async function newestOthers(published: readonly PublishedRpm[], fresh: readonly RpmId[]): Promise<RpmId[]> {
  const names = new Set(fresh.map((p) => p.name));
  const ids = await readRpmIds(published.filter((p) => !names.has(p.name) && existsSync(p.path)).map((p) => p.path));
  const byKey = new Map<string, RpmId[]>();
  for (const id of ids) byKey.set(`${id.name}.${id.arch}`, [...(byKey.get(`${id.name}.${id.arch}`) ?? []), id]);
  const groups = [...byKey.values()];
  const highest = await compareWithHighest(groups.map((g) => ({ candidate: g[0]!, published: g })));
  return groups.map((g, i) => g[highest[i]!.highest]!);
}

/** How rpm names a package in a problem line: `name-version-release.arch`, with `epoch:` where it has one. */
function spellings(p: RpmId): string[] {
  const plain = `${p.name}-${p.version}-${p.release}.${p.arch}`;
  return p.epoch ? [plain, `${p.name}-${p.epoch}:${p.version}-${p.release}.${p.arch}`] : [plain];
}

/**
 * File conflicts with the published repo: `rpm -i --test` of the newest published package of
 * every other name together with the new ones, in an empty root (nothing is unpacked). Only
 * conflicts that involve a new package fail the check; those among published packages alone are
 * listed as warnings.
 */
export async function conflictsCheck(fresh: readonly RpmId[], published: readonly PublishedRpm[], opts: { dir: string; logFile: string }): Promise<CheckResult> {
  const t0 = Date.now();
  const base = { name: 'conflicts', kind: 'conflicts' as const };
  const others = await newestOthers(published, fresh);
  if (others.length === 0) return { ...base, state: 'skipped', message: 'no other package is published on this platform', durationSeconds: (Date.now() - t0) / 1000 };
  const root = join(opts.dir, 'conflicts-root');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const files = [...others, ...fresh].map((p) => p.file);
  const run = await rpmOnRoot(root, ['-i', '--test', '--nodeps', '--noscripts', '--ignorearch', '--ignoreos', '--ignoresize', '--nosignature', '--', ...files], { dir: opts.dir, files, logFile: opts.logFile, timeoutSeconds: 1800 });
  rmSync(root, { recursive: true, force: true });
  const result = { ...base, log: opts.logFile, durationSeconds: (Date.now() - t0) / 1000 };
  const lines = readLog(opts.logFile)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => / conflicts (between|with) /.test(l));
  const names = fresh.flatMap(spellings);
  const involves = (l: string) => names.some((n) => new RegExp(`(^|\\s)${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`).test(l));
  const ours = lines.filter(involves);
  const theirs = lines.filter((l) => !involves(l));
  const warnings = theirs.length > 0 ? { warnings: theirs.map((l) => `between published packages: ${l}`) } : {};
  if (ours.length > 0) return { ...result, ...warnings, state: 'failed', message: `${ours.length} file conflict${ours.length === 1 ? '' : 's'} with the published repo: ${ours.slice(0, 2).join('; ')}` };
  if (run.code !== 0 && lines.length === 0) throw new PatchlineError('ETOOL', `rpm -i --test of the published packages failed: ${logTail(opts.logFile)}`, { input: opts.logFile });
  return { ...result, ...warnings, state: 'passed', message: `no file conflict with the ${others.length} other published package${others.length === 1 ? '' : 's'}` };
}
