import { Command } from 'commander';
import { loadConfig } from '../core/config.js';
import { configOption } from '../core/config-discovery.js';
import { ExitCode } from '../core/errors.js';
import type { BuildRequest } from './job.js';
import { guarded } from '../core/command-errors.js';

interface JenkinsOptions extends Omit<BuildRequest, 'config'> {
  config: string;
  /** The CONFIG parameter (patchline.yaml in the job's checkout), not the local --config. */
  jobConfig?: string;
  follow?: boolean;
  pollInterval?: string;
}

// job.js pulls in the jenkins client and Handlebars: loaded only when a jenkins command runs, not at every CLI start.
async function setup(opts: JenkinsOptions) {
  const job = await import('./job.js');
  const loaded = loadConfig(opts.config);
  const target = job.jenkinsTarget(loaded);
  return { job, loaded, target, client: job.jenkinsClient(target), pollMs: Number(opts.pollInterval ?? 1) * 1000 };
}

/** `patchline jenkins install|build|status`: the job on a Jenkins, through its REST API (npm `jenkins`). */
export function registerJenkinsCommand(program: Command, onExit: (code: ExitCode) => void): void {
  const jenkins = new Command('jenkins').description('create/update the Jenkins job, trigger a build, show its status (JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN)');
  const withConfig = (cmd: Command) => cmd.addOption(configOption('patchline.yaml (its jenkins: section)')).option('--poll-interval <seconds>', 'seconds between polls of the queue and the log', '1');

  jenkins.addCommand(
    withConfig(new Command('install').description('create the job from the generated config.xml, or update it')).action(async (opts: JenkinsOptions) =>
      onExit(
        await guarded(async () => {
          const { job, loaded, target, client } = await setup(opts);
          const done = await job.installJob(client, target, job.renderJobXml(loaded));
          process.stdout.write(`patchline jenkins: job ${target.job} ${done} on ${target.url}\n`);
          return ExitCode.ok;
        }),
      ),
    ),
  );

  jenkins.addCommand(
    withConfig(new Command('build').description('trigger a build (all repos, or one repo/branch) and wait for it to start'))
      .option('--repo <repo>', 'REPO parameter: only this configured repo')
      .option('--branch <branch>', 'BRANCH parameter: only this branch')
      .option('--dry-run', 'DRY_RUN parameter')
      .option('--scratch', 'SCRATCH parameter')
      .option('--job-config <path>', 'CONFIG parameter: patchline.yaml in the job\'s checkout (default: the job\'s default)')
      .option('--follow', 'print the console log until the build ends; exit with its result (UNSTABLE = 3)')
      .action(async (opts: JenkinsOptions) =>
        onExit(
          await guarded(async () => {
            const { job, target, client, pollMs } = await setup(opts);
            const build = await job.triggerBuild(client, target, { repo: opts.repo, branch: opts.branch, dryRun: opts.dryRun, scratch: opts.scratch, config: opts.jobConfig }, pollMs);
            process.stdout.write(`patchline jenkins: build #${build.number} started: ${build.url}\n`);
            if (!opts.follow) return ExitCode.ok;
            await job.followLog(client, target, build.number, process.stdout, pollMs);
            const info = await job.buildInfo(client, target, build.number);
            process.stdout.write(`patchline jenkins: build #${build.number}: ${info?.result}\n`);
            return job.resultCode(info?.result ?? null);
          }),
        ),
      ),
  );

  jenkins.addCommand(
    withConfig(new Command('status').description("the last build's result (exit 0 success, 3 unstable, 1 failed or running)")).action(async (opts: JenkinsOptions) =>
      onExit(
        await guarded(async () => {
          const { job, target, client } = await setup(opts);
          const info = await job.buildInfo(client, target);
          if (!info) {
            process.stdout.write(`patchline jenkins: job ${target.job} has no build yet\n`);
            return ExitCode.failed;
          }
          const state = info.building ? 'RUNNING' : info.result;
          process.stdout.write(`patchline jenkins: build #${info.number} ${state} (${new Date(info.timestamp).toISOString()}) ${info.url}\n`);
          return info.building ? ExitCode.failed : job.resultCode(info.result);
        }),
      ),
    ),
  );
  for (const sub of jenkins.commands) sub.exitOverride();
  program.addCommand(jenkins);
}
