#!/usr/bin/env -S node --max-semi-space-size=32
/**
 * `patchline`: one subcommand per step (the same code as dist/steps/<step>.js), plus the tools
 * around them. Subcommands are registered from the step table and from each stage's command module.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { enableConfigDiscovery } from './core/config-discovery.js';
import { PACKAGE_ROOT } from './core/paths.js';
import type { ExitCode } from './core/errors.js';
import { runCommand, stepCommand } from './core/step.js';
import { STEP_NAMES } from './steps.js';
import { registerInspectCommand } from './harvest/inspect-command.js';
import { registerRunCommand } from './run/command.js';
import { registerDemoCommand } from './run/demo.js';
import { registerJenkinsCommand } from './jenkins/command.js';
import { registerLedgerCommands } from './ledger/command.js';
import { registerCheckCommand } from './check/command.js';
import { registerUpstreamCommands } from './upstream/command.js';
import { registerTrackCommands } from './tracking/command.js';
import { registerServeCommands } from './tracking/serve-command.js';

/** The version of the installed package (its package.json). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('patchline')
    .description('continuous packaging of patches from a mailing list: harvest -> apply -> build -> publish -> report')
    .version(packageVersion(), '-V, --version', 'print the version of patchline')
    .showHelpAfterError('(run with --help for usage)');
  enableConfigDiscovery(program);
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
  registerCheckCommand(program, (code) => {
    process.exitCode = code;
  });
  const onExit = (code: ExitCode): void => {
    process.exitCode = code;
  };
  registerUpstreamCommands(program, onExit);
  registerTrackCommands(program, onExit);
  registerServeCommands(program, onExit);
  return program;
}

await runCommand(buildProgram(), process.argv.slice(2));
