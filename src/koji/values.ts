import { PatchlineError } from '../core/errors.js';

/** Koji integers may arrive as `<i8>`, which the xmlrpc deserializer returns as a string. */
export function toInt(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new PatchlineError('EKOJI', `Koji returned ${JSON.stringify(value)} where ${what} (an integer) was expected`, { input: what });
  }
  return n;
}

export function asStruct(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PatchlineError('EKOJI', `Koji returned ${JSON.stringify(value)} where ${what} (a struct) was expected`, { input: what });
  }
  return value as Record<string, unknown>;
}

/** Keyword arguments the way koji's ClientSession sends them: a trailing struct marked __starstar. */
export function kwargs(opts: Record<string, unknown>): Record<string, unknown> {
  return { ...opts, __starstar: true };
}
