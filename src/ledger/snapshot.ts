import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError, isErrno } from '../core/errors.js';
import { writeJsonAtomic } from '../core/fsutil.js';
import { describeSchemaErrors, validatorFor } from '../core/schemas.js';
import type { UnreportedHarvest } from './harvest-runs.js';
import type { Standing } from './progress.js';
import type { LedgerEntry } from './types.js';

/**
 * `<run>/ledger.json`: the ledger entries a run's report is about (the series the run worked on,
 * and those whose outcome it mails), as they stood when the report step began. The report renders
 * from the run files and this snapshot alone, so a run dir stays a complete record of the run.
 */
export interface RunLedgerSeries {
  entry: LedgerEntry;
  standing: Standing;
  /** The mail of the series' outcome, when this run sends it. */
  mail?: { key: string; messageId: string };
}

export interface RunLedger {
  runId: string;
  series: RunLedgerSeries[];
  /** Earlier harvests whose problems this run mails (their run dirs hold their harvest.json). */
  harvests: UnreportedHarvest[];
  /** Series of the run's harvest.json the ledger does not know (a run dir written by hand): reported from the run files. */
  unledgered: string[];
}

const FILE = 'ledger.json';

function check(value: unknown, where: string): RunLedger {
  const validate = validatorFor('ledger.schema.json');
  if (!validate(value)) throw new PatchlineError('ERESULT', `ledger.json does not match its schema: ${describeSchemaErrors(validate.errors).slice(0, 5).join('; ')}`, { input: where });
  return value as RunLedger;
}

export function writeRunLedger(runDir: string, value: RunLedger): void {
  const path = join(runDir, FILE);
  writeJsonAtomic(path, check(value, path));
}

export function readRunLedger(runDir: string): RunLedger | undefined {
  const path = join(runDir, FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw new PatchlineError('ERESULT', `cannot read ${FILE}: ${(err as Error).message}`, { input: path });
  }
  try {
    return check(JSON.parse(text), path);
  } catch (err) {
    if (err instanceof PatchlineError) throw err;
    throw new PatchlineError('ERESULT', `${FILE} is not valid JSON: ${(err as Error).message}`, { input: path });
  }
}
