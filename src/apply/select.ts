import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Config } from '../core/config-types.js';
import type { SeriesResult } from '../harvest/types.js';
import type { SeriesToApply } from './branch.js';
import { applySettings, isSafeRefWord } from './settings.js';
import { failedSeries, type SeriesApplyResult } from './types.js';

export interface Selection {
  /** Ready series to apply, grouped by repo then branch, each group in apply order. */
  groups: Map<string, Map<string, SeriesToApply[]>>;
  /** Series refused before git saw anything of them. */
  refused: SeriesApplyResult[];
}

/** Why a series from harvest.json (mail: hostile) may not reach git, or undefined when it may. */
function refusal(config: Config, s: SeriesResult, stateDir: string): string | undefined {
  const known = Object.keys(config.repos);
  if (!isSafeRefWord(s.repo) || !Object.hasOwn(config.repos, s.repo)) return `repo "${s.repo}" is not a configured repo (known: ${known.join(', ')})`;
  const branches = config.repos[s.repo]!.branches;
  if (!isSafeRefWord(s.branch) || !branches.includes(s.branch)) return `branch "${s.branch}" is not a configured branch of ${s.repo} (known: ${branches.join(', ')})`;
  if (s.patches.length === 0) return 'the series has no patches';
  for (const p of s.patches) {
    const path = resolve(stateDir, p.file);
    const rel = relative(stateDir, path);
    if (isAbsolute(p.file) || rel.startsWith('..') || isAbsolute(rel)) return `patch ${p.number}: file "${p.file}" is outside the state dir`;
    if (!existsSync(path)) return `patch ${p.number}: file "${p.file}" does not exist`;
  }
  return undefined;
}

function toApply(s: SeriesResult, stateDir: string): SeriesToApply {
  const patches = [...s.patches].sort((a, b) => a.number - b.number);
  return {
    id: s.id,
    repo: s.repo,
    branch: s.branch,
    patches: patches.map((p) => ({ number: p.number, messageId: p.messageId, subject: p.subject, file: p.file, path: resolve(stateDir, p.file), ...(p.date ? { date: p.date } : {}) })),
  };
}

/** Arrival order of the first patch; series without firstArrival keep their harvest.json order after those with one. */
function byArrival(list: Array<{ s: SeriesResult; index: number }>): Array<{ s: SeriesResult; index: number }> {
  return [...list].sort((a, b) => {
    const ta = a.s.firstArrival ? Date.parse(a.s.firstArrival) : Infinity;
    const tb = b.s.firstArrival ? Date.parse(b.s.firstArrival) : Infinity;
    return ta === tb ? a.index - b.index : ta < tb ? -1 : 1;
  });
}

/** The ready series the run applies (only `repo`/`branch` when given), refused ones apart. */
export function selectSeries(candidates: readonly SeriesResult[], config: Config, stateDir: string, only: { repo?: string; branch?: string }): Selection {
  const refused: SeriesApplyResult[] = [];
  const grouped = new Map<string, Map<string, Array<{ s: SeriesResult; index: number }>>>();
  candidates.forEach((s, index) => {
    if (s.status !== 'ready') return;
    if ((only.repo !== undefined && s.repo !== only.repo) || (only.branch !== undefined && s.branch !== only.branch)) return;
    const why = refusal(config, s, stateDir);
    if (why) {
      refused.push(failedSeries(s, { kind: 'refused', files: [], message: why }));
      return;
    }
    const branches = grouped.get(s.repo) ?? new Map<string, Array<{ s: SeriesResult; index: number }>>();
    grouped.set(s.repo, branches);
    branches.set(s.branch, [...(branches.get(s.branch) ?? []), { s, index }]);
  });
  const groups = new Map<string, Map<string, SeriesToApply[]>>();
  for (const [repo, branches] of grouped) {
    const order = applySettings(config, repo).order;
    const ordered = new Map<string, SeriesToApply[]>();
    for (const [branch, list] of branches) ordered.set(branch, (order === 'arrival' ? byArrival(list) : list).map(({ s }) => toApply(s, stateDir)));
    groups.set(repo, ordered);
  }
  return { groups, refused };
}
