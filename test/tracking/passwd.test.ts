/**
 * `patchline passwd` (the installed CLI) and the scrypt hashes it prints: weak passwords refused
 * with the rule, the hash verifies, and a login costs the same scrypt for an unknown user.
 */
import { performance } from 'node:perf_hooks';
import { createAuthenticator, parseBasicAuth } from '../../src/tracking/auth.js';
import { DEFAULT_SCRYPT, hashPassword, parsePasswordHash, passwordWeakness, verifyPassword } from '../../src/tracking/passwd.js';
import { basic, cli } from './api-support.js';

const STRONG = 'seven-Green-lanterns-42';

describe('patchline passwd', () => {
  test('a weak password is refused with the rule (exit 2, one line, nothing on stdout)', async () => {
    for (const [weak, why] of [
      ['short-Pass1', '11 characters, fewer than 12'],
      ['Password2024!', 'a common password'],
    ]) {
      const r = await cli(['passwd', '--user', 'alice'], {}, `${weak}\n`);
      expect([weak, r.status, r.stdout]).toEqual([weak, 2, '']);
      expect(r.stderr.trim().split('\n')).toEqual([`patchline: EUSAGE password refused (${why}): use at least 12 characters, of at least 2 kinds (lower case, upper case, digits, others), at least 6 different characters, and not a common password`]);
    }
  });

  test('a strong one from stdin: the hash printed verifies it, and only it; the password is never an argument', async () => {
    const r = await cli(['passwd', '--user', 'alice'], {}, `${STRONG}\nignored second line\n`);
    expect(r.status).toBe(0);
    const hash = r.stdout.trim();
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(r.stderr).toContain(`- name: alice\n    passwordHash: ${hash}`);
    const parsed = parsePasswordHash(hash)!;
    expect(await verifyPassword(parsed, STRONG)).toBe(true);
    expect(await verifyPassword(parsed, `${STRONG} `)).toBe(false);
    expect(await verifyPassword(parsed, 'seven-Green-lanterns-43')).toBe(false);
    // two hashes of one password differ (random salt)
    expect(await hashPassword(STRONG)).not.toBe(hash);
    expect((await cli(['passwd', STRONG], {}, '')).status).toBe(2);
    expect(await cli(['passwd'], {}, '')).toMatchObject({ status: 2, stdout: '', stderr: expect.stringContaining('no password on stdin') });
  });

  test('rule vectors', () => {
    expect(passwordWeakness('alllowercaseletters')).toBe('only one kind of character');
    expect(passwordWeakness('123456789012345')).toBe('only one kind of character');
    expect(passwordWeakness('abababababab12')).toBe('fewer than 6 different characters');
    expect(passwordWeakness('qwerty123456')).toBe('a common password');
    expect(passwordWeakness('alice-is-here-2026', 'alice')).toBe('contains the user name');
    expect(passwordWeakness('Tr0ub4dor&3xyz')).toBeUndefined();
    expect(passwordWeakness('correct horse battery staple')).toBeUndefined(); // two kinds: letters and spaces
    expect(passwordWeakness('Welcome-2026!!')).toBe('a common password');
    expect(passwordWeakness('ÄÖÜäöüßéèêëï')).toBeUndefined();
  });
});

describe('verifying a login', () => {
  test('Basic credentials parse; malformed ones do not', () => {
    expect(parseBasicAuth(basic('alice', 'pa:ss word'))).toEqual({ user: 'alice', password: 'pa:ss word' });
    expect(parseBasicAuth(undefined)).toBeUndefined();
    expect(parseBasicAuth('Bearer x')).toBeUndefined();
    expect(parseBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeUndefined();
  });

  test('an unknown user costs the same scrypt as a wrong password of a known one (no probing names by timing)', async () => {
    const auth = await createAuthenticator([{ name: 'alice', passwordHash: await hashPassword(STRONG) }]);
    expect(await auth.verify({ user: 'alice', password: STRONG })).toBe('alice');
    expect(await auth.verify({ user: 'alice', password: 'nope' })).toBeUndefined();
    expect(await auth.verify({ user: 'mallory', password: STRONG })).toBeUndefined();
    const time = async (user: string): Promise<number> => {
      const t = performance.now();
      await auth.verify({ user, password: 'a-wrong-password' });
      return performance.now() - t;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time('alice'));
      unknown.push(await time('mallory'));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    // a scrypt of 2^15 x 8 takes tens of ms; the early return it replaces would take microseconds
    expect(median(unknown)).toBeGreaterThan(15);
    expect(median(unknown) / median(known)).toBeGreaterThan(0.5);
    expect(median(unknown) / median(known)).toBeLessThan(2);
    expect(DEFAULT_SCRYPT).toEqual({ N: 32768, r: 8, p: 1 });
  });
});
