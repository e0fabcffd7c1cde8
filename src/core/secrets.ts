import { readFileSync } from 'node:fs';
import { PatchlineError } from './errors.js';
import { resolveFrom } from './config.js';
import type { SecretRef } from './config-types.js';

const known = new Set<string>();
const envNames = new Set<string>();

/**
 * Read a secret named by the config (`{ env: NAME }` or `{ file: PATH }`). The value is
 * remembered so that `redact()` can strip it from anything printed or written.
 */
export function readSecret(ref: SecretRef, what: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): string {
  let value: string | undefined;
  if ('env' in ref) {
    envNames.add(ref.env);
    value = env[ref.env];
    if (value === undefined || value === '') throw new PatchlineError('ESECRET', `${what}: environment variable ${ref.env} is not set`, { input: ref.env });
  } else {
    const path = resolveFrom(baseDir, ref.file);
    try {
      value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new PatchlineError('ESECRET', `${what}: cannot read secret file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { input: path });
    }
    if (value === '') throw new PatchlineError('ESECRET', `${what}: secret file is empty`, { input: path });
  }
  known.add(value);
  return value;
}

/** Replace every secret read so far by `***` (logs, reports, error messages). */
export function redact(text: string): string {
  let out = text;
  for (const s of known) if (s.length >= 3) out = out.split(s).join('***');
  return out;
}

/** The environment variables the config named as secrets so far: never passed to a child process. */
export function secretEnvNames(): ReadonlySet<string> {
  return envNames;
}
