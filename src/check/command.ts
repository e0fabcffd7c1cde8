import { Command } from 'commander';
import { configOption } from '../core/config-discovery.js';
import { ExitCode, asPatchlineError } from '../core/errors.js';
import { redact } from '../core/secrets.js';

interface CheckFlags {
  config: string;
  stateDir?: string;
  connect?: boolean;
}

/** `patchline check`: one line per problem on stdout, exit 2 when there is any. */
export function registerCheckCommand(program: Command, onExit: (code: ExitCode) => void): void {
  program.addCommand(
    new Command('check')
      .description('check the config and everything a run needs (secrets, state dir, mail files, Koji profiles, specs in the repos, publish destination, tools) without changing anything')
      .addOption(configOption())
      .option('--state-dir <dir>', 'state directory (default: stateDir of the config)')
      .option('--connect', 'also log in to the IMAP sources and the SMTP server')
      .action(async (flags: CheckFlags) => {
        try {
          // the checks load imapflow, nodemailer and the Koji client: only when check runs, not at every CLI start
          const [{ checkConfig }, { describeCheckProblem }] = await Promise.all([import('./check.js'), import('./problem.js')]);
          const report = await checkConfig(flags.config, { stateDir: flags.stateDir, connect: flags.connect });
          for (const p of report.problems) process.stdout.write(redact(describeCheckProblem(p)) + '\n');
          const n = report.problems.length;
          process.stderr.write(`patchline check: ${report.file}: ${n === 0 ? 'no problems' : `${n} problem${n === 1 ? '' : 's'}`}\n`);
          onExit(n === 0 ? ExitCode.ok : ExitCode.usage);
        } catch (err) {
          const e = asPatchlineError(err);
          process.stderr.write(redact(e.toLine()) + '\n');
          onExit(e.exitCode);
        }
      }),
  );
}
