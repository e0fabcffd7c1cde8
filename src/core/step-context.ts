import type { LoadedConfig } from './config.js';
import type { ExitCode } from './errors.js';
import type { Logger } from './log.js';

/** Options every step takes (DESIGN.md "Command line and result files"). */
export interface CommonOptions {
  config: string;
  runDir?: string;
  stateDir?: string;
  /** Only this repo (per-branch runs from Jenkins). */
  repo?: string;
  /** Only this branch (with --repo). */
  branch?: string;
  dryRun?: boolean;
  quiet?: boolean;
}

export interface StepContext {
  loaded: LoadedConfig;
  runDir: string;
  runId: string;
  options: CommonOptions & Record<string, unknown>;
  log: Logger;
}

/** What a stage module exports as its step (src/<stage>/step.ts). */
export type StepRun = (ctx: StepContext) => Promise<ExitCode>;
