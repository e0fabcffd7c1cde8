import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { PatchlineError, isErrno } from './errors.js';
import { describeSchemaErrors, validatorFor } from './schemas.js';
import { configError, configProblems } from './config-checks.js';
import type { Config } from './config-types.js';

export type * from './config-types.js';

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the config file. */
  file: string;
  /** Directory relative paths in the config are resolved against. */
  baseDir: string;
  /** Absolute state dir (config `stateDir`, or `.patchline` beside the config). */
  stateDir: string;
}

/**
 * Validate a config object: the schema, then the rules across fields (config-checks.ts), so a
 * config any step would refuse is refused here, before anything is read or consumed. One
 * ECONFIG line naming each dotted path, the bad value and what is expected.
 */
export function validateConfig(raw: unknown, file = 'patchline.yaml'): Config {
  const validate = validatorFor('config.schema.json');
  if (!validate(raw)) {
    const lines = describeSchemaErrors(validate.errors);
    throw new PatchlineError('ECONFIG', `${lines.join('; ')} (in ${file})`, { input: file, details: { errors: lines } });
  }
  const given = raw as Partial<Config>;
  // sources and repos are the mail pipeline's: a config for upstream packaging or tracking only may leave them out
  const pipelineOnly = given.upstream === undefined && given.tracking === undefined;
  const missing = (['sources', 'repos'] as const).filter((k) => given[k] === undefined && pipelineOnly);
  const config = { ...given, sources: given.sources ?? [], repos: given.repos ?? {} } as Config;
  const problems = [...missing.map((k) => ({ path: k, message: `required (${k === 'sources' ? 'where the mail comes from' : 'the git repos the patches go to'}; only a config with upstream: or tracking: may leave it out)` })), ...configProblems(config)];
  if (problems.length > 0) throw configError(problems, file);
  return config;
}

/** Read `patchline.yaml`, validate it against resources/schemas/config.schema.json. */
export function loadConfig(path: string, opts: { stateDir?: string } = {}): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = isErrno(err, 'ENOENT') ? 'no such file' : (err as Error).message;
    throw new PatchlineError('ECONFIG', `cannot read the config file: ${why}`, { input: file });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new PatchlineError('ECONFIG', `${file}${line ? `:${line}` : ''}: not valid YAML: ${e.message.split('\n')[0]}`, { input: file });
  }
  const config = validateConfig(doc.toJS(), file);
  const baseDir = dirname(file);
  const stateDir = opts.stateDir ? resolve(opts.stateDir) : resolveFrom(baseDir, config.stateDir ?? '.patchline');
  return { config, file, baseDir, stateDir };
}

/** Resolve a path from the config relative to the config file's directory. */
export function resolveFrom(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** The mail pipeline's steps need mail sources and repos: a config for upstream packaging or tracking only has none. */
export function requireMailPipeline(loaded: LoadedConfig): void {
  const { sources, repos } = loaded.config;
  if (sources.length > 0 && Object.keys(repos).length > 0) return;
  throw new PatchlineError('ECONFIG', `${sources.length === 0 ? 'sources' : 'repos'}: none configured: the mail pipeline (harvest, apply, build, test, publish, report, run) needs sources: and repos: (this config is for patchline upstream / patchline track only) (in ${loaded.file})`, { input: loaded.file });
}
