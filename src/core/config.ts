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
  const config = raw as Config;
  const problems = configProblems(config);
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
