import { loadConfig, requireMailPipeline, type LoadedConfig } from '../core/config.js';
import { ExitCode, asPatchlineError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { readResultIfExists, resolveRunDir } from '../core/results.js';
import { readOwedMail } from '../ledger/harvest-runs.js';
import { Ledger } from '../ledger/store.js';
import { describeUnfinished, isEmpty, unfinishedWork } from '../ledger/summary.js';
import { redact } from '../core/secrets.js';
import { executeStep } from '../core/step.js';
import type { CommonOptions } from '../core/step-context.js';
import { STEP_NAMES, type StepName } from '../steps.js';
import { lockStateDir, type RunLock } from './lock.js';

export interface RunOptions extends CommonOptions {
  /** Seconds to wait for another run holding the state dir (overrides run.lockWaitSeconds). */
  wait?: string;
  [option: string]: unknown;
}

export interface StepOutcome {
  step: StepName;
  code: ExitCode;
}

export interface RunSummary {
  code: ExitCode;
  runDir?: string;
  steps: StepOutcome[];
  /** Harvest saw no new mail: nothing else ran. */
  nothingNew: boolean;
}

/** Rounds of apply..publish in one run (a gated series re-applied on a moved branch needs one more). */
const MAX_ROUNDS = 3;
/** The step that runs whatever happened before it. */
const FINAL_STEP: StepName = 'report';

const WORDS: Record<ExitCode, string> = { 0: 'ok', 1: 'failed', 2: 'usage/config error', 3: 'partly failed' };

/**
 * A usage or config error (2) stops the chain: every later step would meet it too. A failed step
 * (1) does not: each step takes its own work from the ledger, so the series a step failed on wait,
 * and the others (resumed from earlier runs, or on other branches) go on.
 */
function stopsChain(code: ExitCode): boolean {
  return code === ExitCode.usage;
}

/** The run's exit code: the first failure, else partly failed if any step was, else ok. */
export function overallCode(steps: StepOutcome[]): ExitCode {
  const failure = steps.find((s) => s.code === ExitCode.failed || s.code === ExitCode.usage);
  if (failure) return failure.code;
  return steps.some((s) => s.code === ExitCode.partial) ? ExitCode.partial : ExitCode.ok;
}

function harvestSawNothing(runDir: string): boolean {
  const harvest = readResultIfExists(runDir, 'harvest');
  return harvest !== undefined && harvest.messages.length === 0;
}

/**
 * `patchline run`: every step of the table in order, in one run dir, under the state-dir lock.
 * Each step takes its work from the ledger, so a run also finishes what earlier runs left undone;
 * it stops after harvest only when there was no new mail and the ledger holds nothing unfinished.
 * The chain stops at a step that ends 2 (usage or config); the report step runs regardless.
 */
export async function runPipeline(options: RunOptions, deps: { log?: Logger; execute?: typeof executeStep } = {}): Promise<RunSummary> {
  const log = deps.log ?? createLogger({ quiet: options.quiet });
  const execute = deps.execute ?? executeStep;
  const steps: StepOutcome[] = [];
  let lock: RunLock | undefined;
  let runDir: string | undefined;
  let resumed = false;
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(options.config, { stateDir: options.stateDir });
    requireMailPipeline(loaded);
    lock = await lockStateDir(loaded, { wait: options.wait, command: `patchline run --config ${loaded.file}`, log, who: 'patchline run' });
    runDir = resolveRunDir({ runDir: options.runDir, stateDir: loaded.stateDir, fresh: true }).runDir;
    // what earlier runs left: read before harvest adds this run's series
    const left = unfinishedWork(Ledger.open(loaded.stateDir), loaded.config, readOwedMail(loaded.stateDir), { repo: options.repo, branch: options.branch });
    if (!isEmpty(left)) log.info(`patchline run: resuming ${describeUnfinished(left)}`);
    resumed = !isEmpty(left);
  } catch (err) {
    const e = asPatchlineError(err);
    process.stderr.write(redact(e.toLine()) + '\n');
    lock?.release();
    return { code: e.exitCode, steps, nothingNew: false };
  }
  try {
    const stepOptions = { ...options, runDir, stateLockHeld: true };
    const only = { repo: options.repo, branch: options.branch };
    rounds: for (let round = 1; ; round++) {
      for (const name of STEP_NAMES) {
        if (name === FINAL_STEP || (round > 1 && name === 'harvest')) continue;
        const code = await execute(name, { ...stepOptions, round });
        steps.push({ step: name, code });
        if (stopsChain(code)) {
          log.warn(`${name} ${WORDS[code]}: the steps after it are skipped, ${FINAL_STEP} still runs`);
          break rounds;
        }
        if (name === 'harvest' && !resumed && harvestSawNothing(runDir)) {
          log.info(`patchline run: no new mail since the last run: nothing to do (run dir ${runDir})`);
          return { code: overallCode(steps), runDir, steps, nothingNew: true };
        }
      }
      // gated series whose branch moved before their gate passed are applied again on the new tip: once more, in this run
      const again = unfinishedWork(Ledger.open(loaded.stateDir), loaded.config, readOwedMail(loaded.stateDir), only).notApplied;
      if (again === 0 || round >= MAX_ROUNDS) break;
      log.info(`patchline run: ${again} gated series to apply again on their moved branch (round ${round + 1} of at most ${MAX_ROUNDS})`);
    }
    steps.push({ step: FINAL_STEP, code: await execute(FINAL_STEP, stepOptions) });
    const code = overallCode(steps);
    log.info(`patchline run: ${steps.map((s) => `${s.step} ${WORDS[s.code]}`).join(', ')}; run dir ${runDir}`);
    return { code, runDir, steps, nothingNew: false };
  } finally {
    lock!.release();
  }
}
