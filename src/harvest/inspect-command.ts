import type { Command } from 'commander';

// Placeholder until harvest lands.
export function registerInspectCommand(_program: Command): void {}
