/**
 * Password hashes for `serve.users[].passwordHash` (`patchline passwd`): scrypt from node:crypto,
 * stored as `scrypt$N$r$p$<salt b64>$<hash b64>`, verified in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { PatchlineError } from '../core/errors.js';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** 2^15 x 8: ~100 ms per hash on the 2-core CI machine (32 MiB of memory). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** A hash from the config asking for more than this is refused: it would stall the server. */
const MAX_COST = 2 ** 20;

export interface PasswordHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

const HASH_FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** Parse `scrypt$N$r$p$salt$hash`; undefined when it is not one (or its cost is out of bounds). */
export function parsePasswordHash(text: string): PasswordHash | undefined {
  const m = HASH_FORMAT.exec(text);
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || (N & (N - 1)) !== 0 || N > MAX_COST || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { N, r, p, salt, hash };
}

function derive(password: string, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  return new Promise((done, fail) => {
    // the libuv thread pool runs it: the server keeps answering meanwhile
    scrypt(password.normalize('NFC'), salt, length, { ...params, maxmem: 256 * params.N * params.r * params.p }, (err, key) => (err ? fail(err) : done(key)));
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, KEY_BYTES, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Whether `password` matches `stored`: the whole scrypt runs whatever the input, then a constant-time compare. */
export async function verifyPassword(stored: PasswordHash, password: string): Promise<boolean> {
  const key = await derive(password, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(key, stored.hash);
}

/** Passwords refused whatever their length, also with digits or symbols around them ("Password2024!"). */
const COMMON = new Set([
  'password', 'passw', 'passwort', 'motdepasse', 'qwerty', 'qwertz', 'azerty', 'qwertyuiop', 'asdfgh', 'asdfghjkl', 'zxcvbnm',
  'letmein', 'welcome', 'admin', 'administrator', 'root', 'changeme', 'secret', 'iloveyou', 'monkey', 'dragon', 'master',
  'sunshine', 'princess', 'football', 'baseball', 'superman', 'trustno', 'abc', 'abcdef', 'abcdefgh', 'patchline', 'jenkins',
  'default', 'guest', 'login', 'test', 'testing', 'hello', 'starwars', 'whatever', 'freedom', 'shadow', 'michael',
]);

export const PASSWORD_RULE = 'at least 12 characters, of at least 2 kinds (lower case, upper case, digits, others), at least 6 different characters, and not a common password';

/** Why `password` is too weak (undefined when it is fine). */
export function passwordWeakness(password: string, user?: string): string | undefined {
  const chars = [...password];
  if (chars.length < 12) return `${chars.length} characters, fewer than 12`;
  const kinds = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{Ll}\p{Lu}\p{Nd}]/u].filter((re) => re.test(password)).length;
  if (kinds < 2) return 'only one kind of character';
  if (new Set(chars).size < 6) return 'fewer than 6 different characters';
  const lower = password.toLowerCase();
  const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  if (COMMON.has(lower) || COMMON.has(core)) return 'a common password';
  if (user !== undefined && user.length >= 3 && lower.includes(user.toLowerCase())) return 'contains the user name';
  return undefined;
}

/** Refuse a weak password with the rule (EUSAGE: exit 2). */
export function assertStrongPassword(password: string, user?: string): void {
  const why = passwordWeakness(password, user);
  if (why !== undefined) throw new PatchlineError('EUSAGE', `password refused (${why}): use ${PASSWORD_RULE}`);
}
