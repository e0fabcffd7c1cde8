import { basename } from 'node:path';
import { readResultIfExists } from '../core/results.js';
import type { ApplyResult } from '../apply/types.js';
import type { BuildResult } from '../build/types.js';
import type { HarvestResult } from '../harvest/types.js';
import type { PublishResult } from '../publish/types.js';
import { readRunLedger, type RunLedger } from '../ledger/snapshot.js';

/** The result files of one run; a missing one means that step did not run (or failed before writing it). */
export interface RunFiles {
  runDir: string;
  runId: string;
  harvest?: HarvestResult;
  apply?: ApplyResult;
  build?: BuildResult;
  publish?: PublishResult;
  /** The ledger entries the run reports on (absent in run dirs from before the ledger). */
  ledger?: RunLedger;
}

export function readRunFiles(runDir: string): RunFiles {
  return {
    runDir,
    runId: basename(runDir),
    harvest: readResultIfExists(runDir, 'harvest'),
    apply: readResultIfExists(runDir, 'apply'),
    build: readResultIfExists(runDir, 'build'),
    publish: readResultIfExists(runDir, 'publish'),
    ledger: readRunLedger(runDir),
  };
}

/** When the run happened: harvest's start, else the time in a timestamp run id, else undefined. */
export function runDate(files: RunFiles): Date | undefined {
  if (files.harvest) return new Date(files.harvest.startedAt);
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(files.runId);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}
