import type { StepRun } from './core/step-context.js';

/**
 * The pipeline as data (after semantic-release): each step, what it does, whether it starts a
 * fresh run dir, and where its code lives. `patchline run`, the CLI and Jenkins all read this.
 */
export interface StepDefinition {
  name: StepName;
  summary: string;
  /** The first step of a run makes a new run dir when none is given. */
  startsRun: boolean;
  /** Extra options: [flags, description]. */
  options: Array<[string, string]>;
  load(): Promise<StepRun>;
}

export const STEP_NAMES = ['harvest', 'apply', 'build', 'test', 'publish', 'report'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export const STEPS: Record<StepName, StepDefinition> = {
  harvest: {
    name: 'harvest',
    summary: 'read the mail sources, classify every message, archive patch series by date, write harvest.json (always every configured repo/branch: mail is read once; --repo/--branch narrow what apply takes)',
    startsRun: true,
    options: [],
    load: async () => (await import('./harvest/step.js')).runHarvestStep,
  },
  apply: {
    name: 'apply',
    summary: 'git am every ready series onto its repo/branch and push (gated: to its staging ref), write apply.json',
    startsRun: false,
    options: [],
    load: async () => (await import('./apply/step.js')).runApplyStep,
  },
  build: {
    name: 'build',
    summary: 'build RPMs of every applied series for every platform (Koji or local rpmbuild), write build.json',
    startsRun: false,
    options: [['--scratch', 'Koji scratch builds']],
    load: async () => (await import('./build/step.js')).runBuildStep,
  },
  test: {
    name: 'test',
    summary: 'check the built packages (rpmlint, NVR order, install into a throwaway root, file conflicts) and run the repos\' test commands in a sandbox, write test.json',
    startsRun: false,
    options: [],
    load: async () => (await import('./pkgtest/step.js')).runTestStep,
  },
  publish: {
    name: 'publish',
    summary: 'move the branches of gated series whose builds (and tests) passed, then publish the built RPMs as yum repos (createrepo_c, rsync), write publish.json',
    startsRun: false,
    options: [],
    load: async () => (await import('./publish/step.js')).runPublishStep,
  },
  report: {
    name: 'report',
    summary: 'render the report mails, status page and JUnit XML from the run files, send the mails',
    startsRun: false,
    options: [
      ['--resend <run>', 'send the .eml files of an earlier run that are not sent yet'],
      ['--unknown', 'with --resend: also send the mails whose delivery is unknown (cut off during their SMTP transaction); may duplicate them'],
    ],
    load: async () => (await import('./report/step.js')).runReportStep,
  },
};
