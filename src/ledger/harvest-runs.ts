import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchlineError, isErrno } from '../core/errors.js';
import { writeJsonAtomic } from '../core/fsutil.js';

/**
 * The report mail that is owed outside the series entries, in `<state>/ledger/mail.json`:
 * - `harvests`: harvests whose problems (quarantined or unroutable mail, incomplete series,
 *   failed sources) are not mailed yet. The harvest step adds its run; the report step of that
 *   run, or of the next run if that one died first, mails them from the harvest.json of the run
 *   dir named here, and notes in `mailedIn` which outbox holds the mail;
 * - `outboxes`: run dirs whose outbox still holds mail to deliver (SMTP was down, or the run died
 *   mid-way). Every report step drains them, sending only the mails the ledger says that outbox owns.
 */
export interface UnreportedHarvest {
  run: string;
  runDir: string;
  /** The outbox holding its mail, and the mail's Message-ID, once planned. */
  mailedIn?: { runDir: string; messageId: string };
}

export interface OwedMail {
  harvests: UnreportedHarvest[];
  outboxes: string[];
}

const path = (stateDir: string): string => join(stateDir, 'ledger', 'mail.json');

export function readOwedMail(stateDir: string): OwedMail {
  try {
    const v = JSON.parse(readFileSync(path(stateDir), 'utf8')) as Partial<OwedMail>;
    return { harvests: v.harvests ?? [], outboxes: v.outboxes ?? [] };
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { harvests: [], outboxes: [] };
    throw new PatchlineError('ERESULT', `cannot read ${path(stateDir)}: ${(err as Error).message}`, { input: path(stateDir) });
  }
}

export function writeOwedMail(stateDir: string, owed: OwedMail): void {
  writeJsonAtomic(path(stateDir), owed);
}

/** The harvest step: this run's harvest has problems to mail. */
export function oweHarvestMail(stateDir: string, run: string, runDir: string): void {
  const owed = readOwedMail(stateDir);
  writeOwedMail(stateDir, { ...owed, harvests: [...owed.harvests.filter((h) => h.run !== run), { run, runDir }] });
}
