import type { Command } from 'commander';
import type { ExitCode } from '../core/errors.js';

/** `patchline upstream status [--json]`: what the pages show, from the store. */
export function registerUpstreamStatusCommand(upstream: Command, onExit: (code: ExitCode) => void): void {
  void upstream;
  void onExit;
}
