/**
 * `patchline check`: everything a run would load and need, checked without changing anything:
 * the config (schema and cross-field rules), the secrets it names, the state dir, the mail files,
 * the Koji profiles, the branches and specs in the repos, the publish destination, the tools.
 */
import { loadConfig, type LoadedConfig } from '../core/config.js';
import { asPatchlineError } from '../core/errors.js';
import { connectProblems } from './connect.js';
import { fileSourceProblems, specFileProblems, stateDirProblems, templatesDirProblems } from './files.js';
import { kojiProblems } from './koji.js';
import type { CheckProblem } from './problem.js';
import { publishProblems } from './publish.js';
import { repoSpecProblems } from './repos.js';
import { secretProblems } from './secrets.js';
import { toolProblems } from './tools.js';

export interface CheckOptions {
  stateDir?: string;
  /** Also log in to the IMAP sources and the SMTP server. */
  connect?: boolean;
}

export interface CheckReport {
  /** The config file checked (absolute). */
  file: string;
  loaded?: LoadedConfig;
  problems: CheckProblem[];
}

/** The config's own problems, one per line (loadConfig joins them into one error). */
function loadProblems(file: string, opts: CheckOptions): { loaded?: LoadedConfig; problems: CheckProblem[] } {
  try {
    return { loaded: loadConfig(file, { stateDir: opts.stateDir }), problems: [] };
  } catch (err) {
    const e = asPatchlineError(err);
    const lines = (e.details?.errors as string[] | undefined) ?? [e.message];
    return {
      problems: lines.map((line) => {
        const m = /^([^\s:/]+): (.*)$/.exec(line);
        if (m) return { where: m[1]!, message: m[2]! };
        const input = e.input ?? file;
        return { where: line.includes(input) ? '' : input, message: line };
      }),
    };
  }
}

export async function checkConfig(file: string, opts: CheckOptions = {}): Promise<CheckReport> {
  const { loaded, problems } = loadProblems(file, opts);
  if (!loaded) return { file, problems };
  const local = [stateDirProblems, fileSourceProblems, templatesDirProblems, specFileProblems, kojiProblems, toolProblems].flatMap((check) => check(loaded));
  const remote = await Promise.all([
    repoSpecProblems(loaded),
    publishProblems(loaded),
    opts.connect ? connectProblems(loaded) : Promise.resolve([]),
  ]);
  return { file, loaded, problems: [...secretProblems(loaded.config, loaded.baseDir), ...local, ...remote.flat()] };
}
