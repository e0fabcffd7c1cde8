#!/usr/bin/env -S node --max-semi-space-size=32
/**
 * `patchline`: one subcommand per step (the same code as dist/steps/<step>.js), plus the tools
 * around them. Subcommands are registered from the step table and from each stage's command module.
 */
import { Command } from 'commander';
import { runCommand, stepCommand } from './core/step.js';
import { STEP_NAMES } from './steps.js';
import { registerInspectCommand } from './harvest/inspect-command.js';
import { registerRunCommand } from './run/command.js';
import { registerDemoCommand } from './run/demo.js';
import { registerJenkinsCommand } from './jenkins/command.js';
import { registerLedgerCommands } from './ledger/command.js';

export function buildProgram(): Command {
  const program = new Command('patchline')
    .description('continuous packaging of patches from a mailing list: harvest -> apply -> build -> publish -> report')
    .showHelpAfterError('(run with --help for usage)');
  for (const name of STEP_NAMES) {
    program.addCommand(
      stepCommand(name, (code) => {
        process.exitCode = code;
      }),
    );
  }
  registerInspectCommand(program);
  registerRunCommand(program, (code) => {
    process.exitCode = code;
  });
  registerDemoCommand(program, (code) => {
    process.exitCode = code;
  });
  registerJenkinsCommand(program, (code) => {
    process.exitCode = code;
  });
  registerLedgerCommands(program, (code) => {
    process.exitCode = code;
  });
  return program;
}

await runCommand(buildProgram(), process.argv.slice(2));
