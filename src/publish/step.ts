import { PatchlineError } from '../core/errors.js';
import type { StepRun } from '../core/step-context.js';

// Placeholder until the publish stage lands (its issue replaces this file).
export const runPublishStep: StepRun = async () => {
  throw new PatchlineError('EINTERNAL', 'the publish step is not built yet');
};
