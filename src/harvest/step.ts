import { ExitCode } from '../core/errors.js';
import type { StepRun } from '../core/step-context.js';
import { oweHarvestMail } from '../ledger/harvest-runs.js';
import { Ledger } from '../ledger/store.js';
import { recordHarvest } from '../ledger/work.js';
import { linkSeriesIntoRunDir } from './archive.js';
import { harvest } from './harvest.js';
import { BUCKETS, type HarvestResult } from './types.js';

/** Whether this harvest has something new to tell (mail it could not use, a source that failed). */
function newProblems(result: HarvestResult, changedIncomplete: boolean): boolean {
  return changedIncomplete || result.sources.some((s) => s.error) || result.messages.some((m) => m.bucket === 'quarantined' || m.bucket === 'unroutable');
}

/**
 * The harvest step. It always harvests every source for every configured repo and branch
 * (mail is consumed once): --repo/--branch narrow what apply picks up, not what is harvested.
 * The series it found go into the ledger before the pending journal is cleared: a crash between
 * harvest.json and the ledger makes the next harvest report those series again.
 * Exit 0; 3 when a source failed but others were read; 1 when no source could be read.
 */
export const runHarvestStep: StepRun = async ({ loaded, runDir, runId, log }) => {
  const outcome = await harvest(loaded, { runId, log });
  const path = outcome.write(runDir);
  const { counts, series } = outcome.result;
  const ledger = Ledger.open(loaded.stateDir);
  const before = new Map(series.map((s) => [s.id, ledger.get(s.id)?.status]));
  recordHarvest(ledger, series, runId, outcome.result.startedAt);
  const changedIncomplete = series.some((s) => s.status === 'incomplete' && before.get(s.id) !== 'incomplete');
  if (newProblems(outcome.result, changedIncomplete)) oweHarvestMail(loaded.stateDir, runId, runDir);
  outcome.done();
  linkSeriesIntoRunDir(loaded.stateDir, runDir, series.flatMap((s) => (s.archiveDir ? [s.archiveDir] : [])));
  const buckets = BUCKETS.filter((b) => counts[b] > 0).map((b) => `${b} ${counts[b]}`).join(', ');
  const status = (st: string) => series.filter((s) => s.status === st).length;
  // the summary is printed even with --quiet
  process.stderr.write(`harvest: ${counts.seen} messages (${buckets || 'none new'}); series: ${status('ready')} ready, ${status('incomplete')} incomplete, ${status('superseded')} superseded\n`);
  log.info(`harvest: wrote ${path}`);
  if (outcome.failedSources === 0) return ExitCode.ok;
  return outcome.failedSources === loaded.config.sources.length ? ExitCode.failed : ExitCode.partial;
};
