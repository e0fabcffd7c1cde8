import { PatchlineError } from '../core/errors.js';
import type { StepRun } from '../core/step-context.js';

// Placeholder until the report stage lands (its issue replaces this file).
export const runReportStep: StepRun = async () => {
  throw new PatchlineError('EINTERNAL', 'the report step is not built yet');
};
