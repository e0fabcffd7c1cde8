import { PatchlineError } from '../core/errors.js';
import type { StepRun } from '../core/step-context.js';

// Placeholder until the harvest stage lands (its issue replaces this file).
export const runHarvestStep: StepRun = async () => {
  throw new PatchlineError('EINTERNAL', 'the harvest step is not built yet');
};
