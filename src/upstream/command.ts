import { Command, Option } from 'commander';
import { configOption } from '../core/config-discovery.js';
import { ExitCode } from '../core/errors.js';
import { registerUpstreamStatusCommand } from './status-command.js';
import { guarded } from '../core/command-errors.js';

export interface UpstreamCommandOptions {
  config: string;
  stateDir?: string;
  runDir?: string;
  project?: string;
  headOnly?: boolean;
  recheck?: string[];
  dryRun?: boolean;
  wait?: string;
  quiet?: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** `patchline upstream [--project P] [--head-only] [--recheck P@sha]`: also dist/steps/upstream.js. */
export function upstreamRunCommand(name: string, onExit: (code: ExitCode) => void): Command {
  return new Command(name)
    .description('continuous packaging of upstream projects: an RPM and a repo for every upstream commit')
    .addOption(configOption())
    .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
    .option('--run-dir <dir>', 'run directory (default: <state>/upstream/runs/<UTC timestamp>)')
    .option('--project <name>', 'only this upstream project')
    .option('--head-only', 'build only the newest commit of each project (a failure is still bisected)')
    .option('--recheck <project@sha>', 'build this commit again with the current dist-git (repeatable)', collect)
    .option('--dry-run', 'fetch and say what would be built; build, publish and record nothing')
    .option('--wait <seconds>', 'how long to wait for another command holding the state dir (default: run.lockWaitSeconds, 600)')
    .addOption(new Option('-q, --quiet', 'only warnings and the summary').default(false))
    .action(async (opts: UpstreamCommandOptions) =>
      onExit(
        await guarded(async () => {
          const [{ loadConfig }, { createLogger }, { runUpstream }] = await Promise.all([import('../core/config.js'), import('../core/log.js'), import('./run.js')]);
          const loaded = loadConfig(opts.config, { stateDir: opts.stateDir });
          return runUpstream(loaded, opts, createLogger({ quiet: opts.quiet }));
        }),
      ),
    );
}

/**
 * `patchline upstream [--project P] [--head-only] [--recheck P@sha]`, `upstream purge`, and
 * `upstream status` (status-command.ts). Heavy modules load when the command runs.
 */
export function registerUpstreamCommands(program: Command, onExit: (code: ExitCode) => void): void {
  // the run is the default subcommand, so that `upstream status --config F` gives --config to status
  // (an `upstream` with options of its own would take them from every subcommand's arguments)
  const upstream = program.command('upstream').description('continuous packaging of upstream projects: an RPM and a repo for every upstream commit');
  upstream.addCommand(upstreamRunCommand('run', onExit), { isDefault: true });
  upstream
    .command('purge')
    .description('remove per-commit repos older than upstream.keep, except what current/consistent point at and each project\'s newest success')
    .addOption(configOption())
    .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
    .option('--wait <seconds>', 'how long to wait for another command holding the state dir')
    .addOption(new Option('-q, --quiet', 'only warnings and the summary').default(false))
    .action(async (opts: { config: string; stateDir?: string; wait?: string; quiet?: boolean }) =>
      onExit(
        await guarded(async () => {
          const [{ loadConfig }, { createLogger }, { purgeUpstream }] = await Promise.all([import('../core/config.js'), import('../core/log.js'), import('./purge.js')]);
          const loaded = loadConfig(opts.config, { stateDir: opts.stateDir });
          return purgeUpstream(loaded, opts, createLogger({ quiet: opts.quiet }));
        }),
      ),
    );
  registerUpstreamStatusCommand(upstream, onExit);
  // usage errors of these nested commands exit 2 like every other (runCommand maps commander's errors)
  for (const sub of upstream.commands) sub.exitOverride();
}
