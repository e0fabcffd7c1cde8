import { Command, CommanderError, Option } from 'commander';
import { loadConfig, requireMailPipeline } from './config.js';
import { configOption, enableConfigDiscovery } from './config-discovery.js';
import { ExitCode, PatchlineError } from './errors.js';
import { createLogger } from './log.js';
import { resolveRunDir } from './results.js';
import type { CommonOptions } from './step-context.js';
import { STEPS, type StepName } from '../steps.js';
import { lockStateDir } from '../run/lock.js';
import { reportError } from './command-errors.js';

/** The options every step shares, added to a commander command. */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(configOption())
    .option('--run-dir <dir>', 'run directory (default: <state>/runs/<UTC timestamp> for harvest, the latest run for later steps)')
    .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
    .option('--repo <repo>', 'only this configured repo')
    .option('--branch <branch>', 'only this configured branch (with --repo)')
    .option('--dry-run', 'change nothing outside the run dir')
    .option('--wait <seconds>', 'how long to wait for another command holding the state dir (default: run.lockWaitSeconds, 600)')
    .addOption(new Option('-q, --quiet', 'only warnings and the summary').default(false));
}

/** Load the config and run dir, run the step, map errors to the exit code with one line. */
export async function executeStep(name: StepName, options: CommonOptions & Record<string, unknown>): Promise<ExitCode> {
  const def = STEPS[name];
  const log = createLogger({ quiet: options.quiet });
  try {
    const loaded = loadConfig(options.config, { stateDir: options.stateDir });
    requireMailPipeline(loaded);
    if (options.repo !== undefined && !(options.repo in loaded.config.repos)) {
      throw new PatchlineError('EUSAGE', `--repo ${options.repo}: not a configured repo (known: ${Object.keys(loaded.config.repos).join(', ')})`, { input: options.repo });
    }
    if (options.branch !== undefined) {
      const repos = options.repo ? [options.repo] : Object.keys(loaded.config.repos);
      if (!repos.some((r) => loaded.config.repos[r]!.branches.includes(options.branch!))) {
        throw new PatchlineError('EUSAGE', `--branch ${options.branch}: not a configured branch of ${repos.join(', ')}`, { input: options.branch });
      }
    }
    // `patchline run` holds the state lock for all its steps; a step run alone takes it itself
    const lock = options.stateLockHeld === true ? undefined : await lockStateDir(loaded, { wait: options.wait as string | undefined, command: `patchline ${name} --config ${loaded.file}`, log, who: `patchline ${name}` });
    try {
      const { runDir, runId } = resolveRunDir({ runDir: options.runDir, stateDir: loaded.stateDir, fresh: def.startsRun });
      log.info(`patchline ${name}: run dir ${runDir}`);
      const run = await def.load();
      return await run({ loaded, runDir, runId, options, log });
    } finally {
      lock?.release();
    }
  } catch (err) {
    return reportError(err);
  }
}

/** A commander command for one step (used by the CLI and by dist/steps/<step>.js). */
export function stepCommand(name: StepName, onExit: (code: ExitCode) => void): Command {
  const def = STEPS[name];
  const cmd = addCommonOptions(new Command(name).description(def.summary));
  for (const [flags, description] of def.options) cmd.option(flags, description);
  cmd.action(async (opts: CommonOptions & Record<string, unknown>) => onExit(await executeStep(name, opts)));
  return cmd;
}

/** Parse argv with commander; usage errors exit 2 with commander's one line. */
export async function runCommand(cmd: Command, argv: string[]): Promise<void> {
  cmd.exitOverride();
  cmd.configureOutput({ outputError: (str, write) => write(str.trimEnd().split('\n')[0] + '\n') });
  for (const sub of cmd.commands) sub.exitOverride();
  try {
    await cmd.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    throw err;
  }
}

/** Entry of dist/steps/<step>.js. */
export async function stepMain(name: StepName): Promise<void> {
  const cmd = enableConfigDiscovery(
    stepCommand(name, (code) => {
      process.exitCode = code;
    }),
  );
  cmd.name(`node dist/steps/${name}.js`);
  await runCommand(cmd, process.argv.slice(2));
}
