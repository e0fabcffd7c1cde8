import type { Command } from 'commander';
import type { ExitCode } from '../core/errors.js';
import { registerUpstreamStatusCommand } from './status-command.js';

/**
 * `patchline upstream [--project P] [--head-only] [--recheck P@sha]`, `upstream purge`, and
 * `upstream status` (status-command.ts). Heavy modules load when the command runs.
 */
export function registerUpstreamCommands(program: Command, onExit: (code: ExitCode) => void): void {
  const upstream = program.command('upstream').description('continuous packaging of upstream projects: an RPM and a repo for every upstream commit');
  registerUpstreamStatusCommand(upstream, onExit);
}
