import { join } from 'node:path';
import { ExitCode, asPatchlineError } from '../core/errors.js';
import { createProgress } from '../core/progress.js';
import { readResultIfExists, writeResult } from '../core/results.js';
import type { StepRun } from '../core/step-context.js';
import type { BuildRecord } from '../build/types.js';
import { safeName } from '../build/settings.js';
import { Ledger } from '../ledger/store.js';
import { binaryRpms, gateOf, platformsFor } from '../ledger/progress.js';
import { absoluteRecord, recordTest, testWork } from '../ledger/work.js';
import { servingRepo, type ServingRepo } from './published.js';
import { testSettings } from './settings.js';
import { testBuild } from './test-build.js';
import type { TestRecord } from './types.js';

/** 0: every record passed (or nothing to test); 3: some did not; 1: none passed. */
export function exitCodeOf(tests: readonly TestRecord[]): ExitCode {
  const bad = tests.filter((t) => t.state !== 'passed').length;
  if (bad === 0) return ExitCode.ok;
  return bad === tests.length ? ExitCode.failed : ExitCode.partial;
}

/**
 * The test step: for every build the ledger holds as built and not tested (repos with
 * apply.gate test), rpmlint, the NVR order against the published repo, an install into a
 * throwaway root, file conflicts with the published packages and the repo's test commands.
 * Each platform's result goes into the ledger as soon as its checks are done; test.json lists them.
 */
export const runTestStep: StepRun = async ({ loaded, runDir, runId, log, options }) => {
  const startedAt = new Date().toISOString();
  const { config, stateDir } = loaded;
  const dryRun = options.dryRun === true;
  const ledger = Ledger.open(stateDir);
  const only = { repo: options.repo, branch: options.branch };
  // the run's own build.json counts for series the ledger does not know (written by hand), and is all a dry run has
  const own = (readResultIfExists(runDir, 'build')?.builds ?? [])
    .filter((b) => (b.state === 'built' || b.state === 'skipped') && binaryRpms(b.rpms).length > 0 && gateOf(config, b.repo) === 'test')
    .filter((b) => (only.repo === undefined || b.repo === only.repo) && (only.branch === undefined || b.branch === only.branch))
    .map((b) => absoluteRecord(b, runDir));
  const builds: BuildRecord[] = dryRun ? own : [...testWork(ledger, config, only), ...own.filter((b) => !ledger.get(b.seriesId))];
  // what serves each build's platform and repo/branch now (publish.layout): its NVR order and file conflicts are checked against it
  const serving = new Map<string, ServingRepo | Error>();
  const servingOf = (build: BuildRecord): ServingRepo => {
    const target = { platform: build.platform, repo: build.repo, branch: build.branch ?? ledger.get(build.seriesId)?.branch ?? '' };
    const key = `${target.platform}\0${target.repo}\0${target.branch}`;
    if (!serving.has(key)) {
      try {
        serving.set(key, servingRepo(loaded, target));
      } catch (err) {
        serving.set(key, asPatchlineError(err, 'EPUBLISH'));
      }
    }
    const s = serving.get(key)!;
    if (s instanceof Error) throw s;
    return s;
  };
  // settings first: a config error stops the step before anything is tested
  const platformOf = (b: BuildRecord) => platformsFor(config, b.repo).find((p) => p.name === b.platform) ?? { name: b.platform, builder: b.builder };
  const settings = builds.map((b) => testSettings(loaded, b.repo, platformOf(b)));
  const tests: TestRecord[] = [];
  const progress = createProgress('test', builds.length);
  try {
    for (const [i, build] of builds.entries()) {
      let record: TestRecord;
      try {
        record = await testBuild({
          build,
          settings: settings[i]!,
          dir: join(runDir, 'test', safeName(build.seriesId), build.platform),
          serving: servingOf(build),
          sameLine: (id) => {
            const e = ledger.get(id);
            return e !== undefined && e.repo === build.repo && e.branch === build.branch;
          },
        });
      } catch (err) {
        const e = asPatchlineError(err, 'EINTERNAL');
        record = { seriesId: build.seriesId, repo: build.repo, ...(build.branch ? { branch: build.branch } : {}), platform: build.platform, state: 'error', checks: [], durationSeconds: 0, message: e.message, error: e.toJSON() };
      }
      tests.push(record);
      if (!dryRun) recordTest(ledger, config, record, runId, new Date().toISOString());
      const failed = record.checks.filter((c) => c.state === 'failed' || c.state === 'error').map((c) => c.name);
      const line = `test: ${record.seriesId} on ${record.platform}: ${record.state}${failed.length > 0 ? ` (${failed.join(', ')})` : ''}`;
      if (record.state === 'passed') log.info(line);
      else log.warn(`${line}: ${record.message ?? ''}`);
      progress.tick(`${record.platform} ${record.state}`);
    }
  } finally {
    progress.stop();
  }
  writeResult(runDir, 'test', { runId, startedAt, finishedAt: new Date().toISOString(), tests }, { round: options.round as number | undefined });
  const counts = (['passed', 'failed', 'error'] as const).map((s) => `${tests.filter((t) => t.state === s).length} ${s}`).join(', ');
  log.info(`test: ${tests.length} package sets tested: ${counts}`);
  return exitCodeOf(tests);
};
