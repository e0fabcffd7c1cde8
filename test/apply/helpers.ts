import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executeStep } from '../../src/core/step.js';
import type { ApplyResult } from '../../src/apply/types.js';
import { readResult } from '../../src/core/results.js';
import { Git } from '../../src/git/git.js';
import { archivePatches, formatPatches, messageIdOf, type FixtureSeries } from '../support/git-fixtures.js';

export async function runApply(project: { config: string; runDir: string }, extra: { repo?: string; branch?: string; dryRun?: boolean } = {}): Promise<{ code: number; result: ApplyResult }> {
  const code = await executeStep('apply', { config: project.config, runDir: project.runDir, quiet: true, ...extra });
  return { code, result: readResult(project.runDir, 'apply') };
}

/** format-patch `range` of the work repo into the archive, as one fixture series. */
export async function seriesFrom(work: Git, range: string, project: { stateDir: string }, s: { id: string; repo: string; branch: string; firstArrival?: string }, tmp: string): Promise<FixtureSeries> {
  const files = await formatPatches(work, range, join(tmp, `fp-${s.id}`));
  const texts = files.map((f) => readFileSync(f));
  const rel = archivePatches(project.stateDir, { repo: s.repo, branch: s.branch, series: s.id }, files.map((f, i) => ({ name: f.split('/').pop()!, content: texts[i]! })));
  return {
    ...s,
    patches: rel.map((file, i) => {
      const text = texts[i]!.toString('utf8');
      return { file, messageId: messageIdOf(text), subject: /^Subject: \[PATCH[^\]]*\] (.*)$/m.exec(text)![1]!, date: /^Date: (.*)$/m.exec(text)![1]! };
    }),
  };
}

/** The commit a branch of a bare repo points at. */
export async function remoteRef(remote: string, branch: string): Promise<string | undefined> {
  return new Git(remote).revParse(`refs/heads/${branch}`);
}

/** `path` → blob sha of a commit's tree (mode + sha), for comparing results. */
export async function treeListing(git: Git, rev: string): Promise<string> {
  return git.output(['ls-tree', '-r', '--full-tree', rev]);
}
