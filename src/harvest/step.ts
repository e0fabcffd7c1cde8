import { ExitCode } from '../core/errors.js';
import type { StepRun } from '../core/step-context.js';
import { linkSeriesIntoRunDir } from './archive.js';
import { harvest } from './harvest.js';
import { BUCKETS } from './types.js';

/**
 * The harvest step. It always harvests every source for every configured repo and branch
 * (mail is consumed once): --repo/--branch narrow what apply picks up, not what is harvested.
 * Exit 0; 3 when a source failed but others were read; 1 when no source could be read.
 */
export const runHarvestStep: StepRun = async ({ loaded, runDir, runId, log }) => {
  const outcome = await harvest(loaded, { runId, log });
  const path = outcome.write(runDir);
  outcome.done();
  linkSeriesIntoRunDir(loaded.stateDir, runDir, outcome.result.series.flatMap((s) => (s.archiveDir ? [s.archiveDir] : [])));
  const { counts, series } = outcome.result;
  const buckets = BUCKETS.filter((b) => counts[b] > 0).map((b) => `${b} ${counts[b]}`).join(', ');
  const status = (st: string) => series.filter((s) => s.status === st).length;
  // the summary is printed even with --quiet
  process.stderr.write(`harvest: ${counts.seen} messages (${buckets || 'none new'}); series: ${status('ready')} ready, ${status('incomplete')} incomplete, ${status('superseded')} superseded\n`);
  log.info(`harvest: wrote ${path}`);
  if (outcome.failedSources === 0) return ExitCode.ok;
  return outcome.failedSources === loaded.config.sources.length ? ExitCode.failed : ExitCode.partial;
};
