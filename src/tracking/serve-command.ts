import type { Command } from 'commander';
import type { ExitCode } from '../core/errors.js';

/** `patchline serve` (the tracking REST API) and `patchline passwd`. */
export function registerServeCommands(program: Command, onExit: (code: ExitCode) => void): void {
  void program;
  void onExit;
}
