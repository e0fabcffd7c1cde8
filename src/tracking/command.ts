import type { Command } from 'commander';
import type { ExitCode } from '../core/errors.js';

/** `patchline track add|list|show|remove|enable|disable|scan`. */
export function registerTrackCommands(program: Command, onExit: (code: ExitCode) => void): void {
  void program;
  void onExit;
}
