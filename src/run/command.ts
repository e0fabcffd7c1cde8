import { Command } from 'commander';
import { addCommonOptions } from '../core/step.js';
import type { ExitCode } from '../core/errors.js';
import { STEP_NAMES, STEPS } from '../steps.js';
import { runPipeline, type RunOptions } from './pipeline.js';

/** `patchline run`: all steps in order, with every step's own options. */
export function registerRunCommand(program: Command, onExit: (code: ExitCode) => void): void {
  const cmd = addCommonOptions(new Command('run').description('run harvest -> apply -> build -> publish -> report in one run dir, one run at a time per state dir'));
  const seen = new Set<string>();
  for (const name of STEP_NAMES) {
    for (const [flags, description] of STEPS[name].options) {
      if (seen.has(flags)) continue;
      seen.add(flags);
      cmd.option(flags, `${description} (${name})`);
    }
  }
  cmd.action(async (opts: RunOptions) => onExit((await runPipeline(opts)).code));
  program.addCommand(cmd);
}
