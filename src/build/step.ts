import { PatchlineError } from '../core/errors.js';
import type { StepRun } from '../core/step-context.js';

// Placeholder until the build stage lands (its issue replaces this file).
export const runBuildStep: StepRun = async () => {
  throw new PatchlineError('EINTERNAL', 'the build step is not built yet');
};
