import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../core/config.js';
import { configOption } from '../core/config-discovery.js';
import { ExitCode, PatchlineError, asPatchlineError, isErrno } from '../core/errors.js';
import { redact } from '../core/secrets.js';
import { inspectFile, type InspectOptions } from './inspect.js';

interface InspectFlags {
  config?: string;
  source?: string;
  scissors?: boolean;
}

function optionsFrom(flags: InspectFlags): InspectOptions {
  if (flags.config === undefined) {
    if (flags.source !== undefined) throw new PatchlineError('EUSAGE', '--source needs --config');
    return { scissors: flags.scissors };
  }
  const { config } = loadConfig(flags.config);
  const source = flags.source === undefined ? undefined : config.sources.find((s) => s.name === flags.source);
  if (flags.source !== undefined && source === undefined) {
    throw new PatchlineError('EUSAGE', `--source ${flags.source}: not a source of the config (known: ${config.sources.map((s) => s.name).join(', ')})`, { input: flags.source });
  }
  return { config, scissors: flags.scissors, ...(source?.subjectPattern ? { subjectPattern: new RegExp(source.subjectPattern) } : {}) };
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new PatchlineError('EUSAGE', `cannot read ${file}: ${isErrno(err, 'ENOENT') ? 'no such file' : (err as Error).message}`, { input: file });
  }
}

/** `patchline inspect <file.eml|file.mbox>`: a JSON array, one object per message, on stdout. */
export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('show what harvest makes of each message of an .eml or mbox file (bucket, reason, route, series keys, extraction) as JSON')
    .argument('<file>', 'one message (.eml) or an mbox (mboxo/mboxrd)')
    .addOption(configOption('patchline.yaml: check routing against its repos and branches (none found: "no config: route not checked")', { needed: false }))
    .option('--source <name>', "use this source's subjectPattern (needs --config)")
    .option('--scissors', 'honour "-- >8 --" scissors lines, as git mailinfo --scissors')
    .action((file: string, flags: InspectFlags) => {
      try {
        const reports = inspectFile(readInput(file), optionsFrom(flags));
        process.stdout.write(JSON.stringify(reports, null, 2) + '\n');
        process.exitCode = ExitCode.ok;
      } catch (err) {
        const e = asPatchlineError(err);
        process.stderr.write(redact(e.toLine()) + '\n');
        process.exitCode = e.exitCode;
      }
    });
}
