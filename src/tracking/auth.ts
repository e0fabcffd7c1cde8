/**
 * HTTP Basic auth against `serve.users` for `patchline serve`. Every attempt costs one full scrypt,
 * for an unknown user too (against a dummy hash of the same cost), so neither a password nor a
 * user name can be probed by timing.
 */
import { randomBytes } from 'node:crypto';
import { PatchlineError } from '../core/errors.js';
import type { ServeUser } from './config-types.js';
import { DEFAULT_SCRYPT, hashPassword, parsePasswordHash, verifyPassword, type PasswordHash } from './passwd.js';

export interface BasicCredentials {
  user: string;
  password: string;
}

/** `Authorization: Basic base64(user:password)`; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  const m = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function basicAuthHeader(creds: BasicCredentials): string {
  return `Basic ${Buffer.from(`${creds.user}:${creds.password}`, 'utf8').toString('base64')}`;
}

export interface Authenticator {
  /** The user name when the credentials are right, else undefined (after the same work either way). */
  verify(creds: BasicCredentials | undefined): Promise<string | undefined>;
}

/** Check the configured users (ECONFIG naming the bad entry) and build their verifier. */
export async function createAuthenticator(users: ServeUser[], where = 'serve.users'): Promise<Authenticator> {
  const hashes = new Map<string, PasswordHash>();
  users.forEach((u, i) => {
    const parsed = parsePasswordHash(u.passwordHash);
    if (!parsed) throw new PatchlineError('ECONFIG', `${where}.${i}.passwordHash: not a hash from \`patchline passwd\` (scrypt$N$r$p$salt$hash)`, { input: u.name });
    if (hashes.has(u.name)) throw new PatchlineError('ECONFIG', `${where}.${i}.name: user ${u.name} appears twice`, { input: u.name });
    hashes.set(u.name, parsed);
  });
  // the dummy costs what a real user's hash costs (the first user's parameters)
  const first = hashes.values().next().value;
  const params = first ? { N: first.N, r: first.r, p: first.p } : DEFAULT_SCRYPT;
  const dummy = parsePasswordHash(await hashPassword(randomBytes(18).toString('base64'), params))!;
  return {
    async verify(creds) {
      if (creds === undefined) return undefined; // nothing to probe: the client knows it sent none
      const stored = hashes.get(creds.user);
      const ok = await verifyPassword(stored ?? dummy, creds.password);
      return ok && stored !== undefined ? creds.user : undefined;
    },
  };
}
