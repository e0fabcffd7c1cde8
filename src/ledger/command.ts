import { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../core/config.js';
import { configOption } from '../core/config-discovery.js';
import { ExitCode, PatchlineError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { redact } from '../core/secrets.js';
import { lockStateDir } from '../run/lock.js';
import { readOwedMail } from './harvest-runs.js';
import { standing, type SeriesState } from './progress.js';
import { Ledger } from './store.js';
import { describeUnfinished, hasWork, unfinishedWork } from './summary.js';
import { approveSeries, requestRetry } from './work.js';
import { reportError } from '../core/command-errors.js';

const STATES: SeriesState[] = ['pending', 'waiting', 'held', 'failed', 'done', 'incomplete', 'superseded'];

interface BranchStatus {
  repo: string;
  branch: string;
  counts: Record<SeriesState, number>;
  /** The oldest series a run still has work for. */
  oldestUnfinished?: { id: string; harvestedBy: string; state: SeriesState; stage?: string };
  /** Every failed or waiting series, with what it waits for. */
  blocked: Array<{ id: string; state: SeriesState; stage?: string; platforms?: string[]; reason?: string; waitsFor: string }>;
}

/** `patchline status`: what the ledger holds, per repo/branch. */
export function ledgerStatus(loaded: LoadedConfig): { branches: BranchStatus[]; unfinished: string; mailToDeliver: number } {
  const ledger = Ledger.open(loaded.stateDir);
  const by = new Map<string, BranchStatus>();
  for (const e of ledger.allWithClosed()) {
    const key = `${e.repo}\0${e.branch}`;
    const row = by.get(key) ?? { repo: e.repo, branch: e.branch, counts: Object.fromEntries(STATES.map((s) => [s, 0])) as Record<SeriesState, number>, blocked: [] };
    by.set(key, row);
    const s = standing(e, loaded.config);
    row.counts[s.state]++;
    if (hasWork(e, s) && (!row.oldestUnfinished || e.harvested.run < row.oldestUnfinished.harvestedBy)) {
      row.oldestUnfinished = { id: e.id, harvestedBy: e.harvested.run, state: s.state, ...(s.stage ? { stage: s.stage } : {}) };
    }
    if (s.state === 'failed' || s.state === 'waiting' || s.state === 'held') {
      const waitsFor =
        s.state === 'held'
          ? `a maintainer: patchline approve ${e.id} (or a Reviewed-by from a trusted address)`
          : s.state === 'waiting'
          ? 'the next run retries it (the cause heals by itself)'
          : s.stage === 'apply' && e.apply?.result.failure?.kind === 'conflict'
            ? `a new version of the series, the branch moving, or: patchline retry ${e.id}`
            : `a new version of the series, a config change, or: patchline retry ${e.id}`;
      row.blocked.push({ id: e.id, state: s.state, ...(s.stage ? { stage: s.stage } : {}), ...(s.platforms ? { platforms: s.platforms } : {}), ...(s.reason ? { reason: s.reason } : {}), waitsFor });
    }
  }
  const owed = readOwedMail(loaded.stateDir);
  const branches = [...by.values()].sort((a, b) => a.repo.localeCompare(b.repo) || a.branch.localeCompare(b.branch));
  return { branches, unfinished: describeUnfinished(unfinishedWork(ledger, loaded.config, owed)), mailToDeliver: owed.outboxes.length };
}

function printStatus(status: ReturnType<typeof ledgerStatus>): void {
  const out: string[] = [];
  if (status.branches.length === 0) out.push('the ledger is empty: no series harvested yet');
  for (const b of status.branches) {
    const counts = STATES.filter((s) => b.counts[s] > 0).map((s) => `${b.counts[s]} ${s}`).join(', ');
    out.push(`${b.repo}/${b.branch}: ${counts}`);
    if (b.oldestUnfinished) out.push(`  oldest unfinished: ${b.oldestUnfinished.id} (harvested by run ${b.oldestUnfinished.harvestedBy}, ${b.oldestUnfinished.state}${b.oldestUnfinished.stage ? ` at ${b.oldestUnfinished.stage}` : ''})`);
    for (const x of b.blocked) {
      out.push(`  ${x.state} at ${x.stage ?? '?'}${x.platforms ? ` (${x.platforms.join(', ')})` : ''}: ${x.id}: ${x.reason ?? 'no reason recorded'}`);
      out.push(`    waits for ${x.waitsFor}`);
    }
  }
  out.push(status.unfinished ? `the next run resumes ${status.unfinished}` : 'nothing unfinished');
  process.stdout.write(redact(out.join('\n')) + '\n');
}


interface SeriesCommandOptions {
  config: string;
  stateDir?: string;
  wait?: string;
  by?: string;
}

/** A command that changes named series of the ledger, under the state lock; an id the ledger does not hold is a usage error before anything changes. */
function seriesCommand(name: string, description: string, onExit: (code: ExitCode) => void, each: (ledger: Ledger, loaded: LoadedConfig, id: string, opts: SeriesCommandOptions, log: Logger) => void): Command {
  return new Command(name)
    .description(description)
    .argument('<series-id...>', 'series ids, as `patchline status` and the report name them')
    .addOption(configOption())
    .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
    .option('--wait <seconds>', 'how long to wait for another command holding the state dir')
    .action(async (ids: string[], opts: SeriesCommandOptions) => {
      const log = createLogger();
      try {
        const loaded = loadConfig(opts.config, { stateDir: opts.stateDir });
        const lock = await lockStateDir(loaded, { wait: opts.wait, command: `patchline ${name} --config ${loaded.file}`, log, who: `patchline ${name}` });
        try {
          const ledger = Ledger.open(loaded.stateDir);
          const unknown = ids.filter((id) => !ledger.get(id));
          if (unknown.length > 0) throw new PatchlineError('EUSAGE', `not in the ledger: ${unknown.join(', ')} (patchline status lists the series)`, { input: unknown[0] });
          for (const id of ids) each(ledger, loaded, id, opts, log);
        } finally {
          lock.release();
        }
        onExit(ExitCode.ok);
      } catch (err) {
        onExit(reportError(err));
      }
    });
}

/** `patchline status [--json]`, `patchline approve <series-id...>` and `patchline retry <series-id...>`. */
export function registerLedgerCommands(program: Command, onExit: (code: ExitCode) => void): void {
  program
    .addCommand(
      new Command('status')
        .description('what the series ledger holds, per repo/branch: series in each state, the oldest unfinished one, and why each failed one waits')
        .addOption(configOption())
        .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
        .option('--json', 'machine-readable output')
        .action((opts: { config: string; stateDir?: string; json?: boolean }) => {
          try {
            const status = ledgerStatus(loadConfig(opts.config, { stateDir: opts.stateDir }));
            if (opts.json) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
            else printStatus(status);
            onExit(ExitCode.ok);
          } catch (err) {
            onExit(reportError(err));
          }
        }),
    )
    .addCommand(
      seriesCommand('approve', 'let series from untrusted senders be built (they wait, applied on their staging refs, until a maintainer approves them)', onExit, (ledger, _loaded, id, opts, log) => {
        const by = opts.by ?? process.env.USER ?? 'a maintainer';
        approveSeries(ledger, id, by);
        log.info(`${id}: approved by ${by}: the next run builds it`);
      }).option('--by <name>', 'who approves (recorded in the ledger and the report; default: $USER)'),
    )
    .addCommand(
      seriesCommand('retry', 'take failed series again in the next run (their failures are forgotten; the new outcome is mailed)', onExit, (ledger, loaded, id, _opts, log) => {
        requestRetry(ledger, loaded.config, id);
        log.info(`${id}: the next run takes it again`);
      }),
    );
}
