import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheckResult } from './types.js';
import { compareWithHighest, nvrOf, readRpmIds, type RpmId } from './nvr.js';
import type { PublishedRpm } from './published.js';

/**
 * The new packages must sort above what is published for the same repo/branch on the platform
 * (else dnf would never update to them): per package name, the new EVR against the highest
 * published one, by rpm's own comparison. The series' own earlier publication does not count
 * (a series tested again after a settings change publishes the same NVR again).
 *
 * `published`: the serving repo's packages that belong to the same repo/branch.
 */
export async function nvrOrderCheck(fresh: readonly RpmId[], published: readonly PublishedRpm[], opts: { seriesId: string; line: string; logFile: string }): Promise<CheckResult> {
  const t0 = Date.now();
  const names = new Set(fresh.map((p) => p.name));
  const mine = published.filter((p) => p.seriesId !== opts.seriesId && names.has(p.name));
  // the manifest has no epoch: read it from the published files (a file gone from the mirror counts with epoch 0)
  const onDisk = mine.filter((p) => existsSync(p.path));
  const headers = new Map((await readRpmIds(onDisk.map((p) => p.path))).map((h) => [h.file, h]));
  const theirs: Array<RpmId & { seriesId: string }> = mine.map((p) => ({ ...(headers.get(p.path) ?? { name: p.name, epoch: 0, version: p.version, release: p.release, arch: p.arch, file: p.path }), seriesId: p.seriesId }));
  const groups = fresh.map((p) => ({ candidate: p, published: theirs.filter((q) => q.name === p.name) }));
  const compared = await compareWithHighest(groups);
  const lines: string[] = [];
  const lower: string[] = [];
  const higher: string[] = [];
  groups.forEach((g, i) => {
    const c = compared[i];
    if (!c) {
      lines.push(`${nvrOf(g.candidate)}: nothing of this name published for ${opts.line}`);
      return;
    }
    const top = g.published[c.highest]!;
    const word = c.cmp > 0 ? 'higher than' : c.cmp === 0 ? 'the same as' : 'lower than';
    lines.push(`${nvrOf(g.candidate)} is ${word} the published ${nvrOf(top)} (series ${top.seriesId}; ${g.published.length} published of this name)`);
    if (c.cmp > 0) higher.push(`${nvrOf(g.candidate)} > published ${nvrOf(top)}`);
    else lower.push(`${nvrOf(g.candidate)} is ${c.cmp === 0 ? 'not higher than' : 'lower than'} the published ${nvrOf(top)}`);
  });
  mkdirSync(dirname(opts.logFile), { recursive: true });
  writeFileSync(opts.logFile, lines.join('\n') + '\n');
  const base = { name: 'nvr-order', kind: 'nvr-order' as const, log: opts.logFile, durationSeconds: (Date.now() - t0) / 1000 };
  if (lower.length > 0) return { ...base, state: 'failed', message: lower.slice(0, 3).join('; ') + (lower.length > 3 ? ` (and ${lower.length - 3} more)` : '') };
  if (higher.length === 0) return { ...base, state: 'passed', message: `nothing of these names published for ${opts.line} yet` };
  return { ...base, state: 'passed', message: higher.slice(0, 3).join('; ') + (higher.length > 3 ? ` (and ${higher.length - 3} more)` : '') };
}
