import { PatchlineError } from '../core/errors.js';
import type { StepRun } from '../core/step-context.js';

// Placeholder until the apply stage lands (its issue replaces this file).
export const runApplyStep: StepRun = async () => {
  throw new PatchlineError('EINTERNAL', 'the apply step is not built yet');
};
