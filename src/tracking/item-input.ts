/**
 * Tracking items from the outside (YAML files, command-line flags, POST bodies), checked against
 * resources/schemas/tracking-item.schema.json with dotted-path errors.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { PatchlineError, isErrno } from '../core/errors.js';
import { describeSchemaErrors, validatorFor } from '../core/schemas.js';
import type { TrackingItemInput } from './types.js';

export const ITEM_SCHEMA = 'tracking-item.schema.json';

/** `input` as a tracking item, or one ETRACK error (exit 2) naming each bad key and `where` it came from. */
export function checkItem(input: unknown, where: string): TrackingItemInput {
  const validate = validatorFor(ITEM_SCHEMA);
  if (!validate(input)) {
    const lines = describeSchemaErrors(validate.errors);
    throw new PatchlineError('EUSAGE', `${lines.join('; ')} (in ${where})`, { input: where, details: { errors: lines } });
  }
  const item = { ...(input as TrackingItemInput) };
  if (item.lastCommit === '') delete item.lastCommit;
  return item;
}

/** One tracking item from a YAML (or JSON) file. */
export function readItemFile(file: string): TrackingItemInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PatchlineError('EUSAGE', `cannot read ${file}: ${isErrno(err, 'ENOENT') ? 'no such file' : (err as Error).message}`, { input: file });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new PatchlineError('EUSAGE', `${file}${line ? `:${line}` : ''}: not valid YAML: ${e.message.split('\n')[0]}`, { input: file });
  }
  return checkItem(doc.toJS(), file);
}

/** Every *.yaml / *.yml of a dir (sorted): each read and checked, all errors reported. */
export function readItemDir(dir: string): { items: Array<{ file: string; item: TrackingItemInput }>; errors: PatchlineError[] } {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new PatchlineError('EUSAGE', `${dir} is not a directory`, { input: dir });
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    if (err instanceof PatchlineError) throw err;
    throw new PatchlineError('EUSAGE', `cannot read the directory ${dir}: ${isErrno(err, 'ENOENT') ? 'no such directory' : (err as Error).message}`, { input: dir });
  }
  const items: Array<{ file: string; item: TrackingItemInput }> = [];
  const errors: PatchlineError[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      items.push({ file, item: readItemFile(file) });
    } catch (err) {
      if (!(err instanceof PatchlineError)) throw err;
      errors.push(err);
    }
  }
  return { items, errors };
}
