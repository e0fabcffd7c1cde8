import type { Config } from '../../../src/core/config-types.js';
import { NO_CONFIG_REASON, classifyMessage } from '../../../src/harvest/classify.js';
import { readHeaders } from '../../../src/harvest/mail/headers.js';
import type { Extraction } from '../../../src/harvest/mail/types.js';

const config: Config = { sources: [], repos: { nbdkit: { url: 'file:///x', branches: ['master', 'stable-1.32'] } } };
const headers = (subject: string) => readHeaders(Buffer.from(`From: A <a@example.org>\nSubject: ${subject}\nMessage-ID: <m@x>\n\nbody\n`));
const ext = (diff: string, body = 'text\n'): Extraction => ({ author: { name: 'A', email: 'a@example.org' }, subject: 's', body, diff, trailers: [], pullRequest: /^The following changes since commit/m.test(body) });
const DIFF = '---\ndiff --git a/x b/x\n';

describe('classifyMessage', () => {
  test('patch and cover by n', () => {
    expect(classifyMessage(headers('[master PATCH nbdkit 1/2] x'), ext(DIFF), { config })).toEqual(expect.objectContaining({ bucket: 'patch', route: { repo: 'nbdkit', branch: 'master' } }));
    expect(classifyMessage(headers('[master PATCH nbdkit 0/2] x'), ext(''), { config }).bucket).toBe('cover');
  });
  test('from headers alone (no extraction yet)', () => expect(classifyMessage(headers('[master PATCH nbdkit 1/2] x'), undefined, { config }).bucket).toBe('patch'));
  test('a reply is a comment even with a diff', () => expect(classifyMessage(headers('Re: [master PATCH nbdkit 1/2] x'), ext(DIFF), { config }).bucket).toBe('comment'));
  test('AW: is a reply too', () => expect(classifyMessage(headers('AW: [master PATCH nbdkit 1/2] x'), ext(DIFF), { config }).bucket).toBe('comment'));
  test('[GIT PULL] and the pull-request body', () => {
    expect(classifyMessage(headers('[GIT PULL] x'), ext(''), { config }).bucket).toBe('pull-request');
    expect(classifyMessage(headers('please pull'), ext('', 'The following changes since commit 0123456789abcdef:\n'), { config }).bucket).toBe('pull-request');
  });
  test("patchline's own report mail back from the list (a conflict mail quotes the hunk): other, never a patch", () => {
    const own = readHeaders(Buffer.from('From: patchline <patchline@example.org>\nSubject: [patchline] hello/main: does not apply: x\nMessage-ID: <patchline.2026-11-20-x-v1-ab.failed-apply-0@example.org>\n\nbody\n'));
    expect(classifyMessage(own, ext(DIFF), { config })).toMatchObject({ bucket: 'other', reason: expect.stringContaining("a report mail of patchline's own") });
    expect(classifyMessage(headers('fix the thing'), ext(DIFF), { config }).bucket).toBe('unroutable');
  });
  test('no tag, no diff: other', () => expect(classifyMessage(headers('a question'), ext(''), { config })).toEqual({ bucket: 'other', reason: 'no patch tag and no diff' }));
  test('plain [PATCH]: unroutable, never guessed', () =>
    expect(classifyMessage(headers('[PATCH v2 1/3] x'), ext(DIFF), { config }).reason).toBe('subject tag [PATCH v2 1/3] names no branch and no repo: expected [<branch> PATCH <repo> vN n/m]; not guessed'));
  test('a branch but no repo: unroutable', () => expect(classifyMessage(headers('[master PATCH] x'), ext(DIFF), { config })).toMatchObject({ bucket: 'unroutable', reason: expect.stringContaining('names no repo') }));
  test('a diff without any tag: unroutable', () => expect(classifyMessage(headers('fix the thing'), ext(DIFF), { config }).bucket).toBe('unroutable'));
  test('an unknown branch: quarantined naming the known ones', () =>
    expect(classifyMessage(headers('[stable-9 PATCH nbdkit] x'), ext(DIFF), { config })).toMatchObject({ bucket: 'quarantined', reason: 'branch "stable-9" is not configured for repo nbdkit (known: master, stable-1.32)' }));
  test('a counter past its total ("one more fix"): a patch, and said so', () =>
    expect(classifyMessage(headers('[master PATCH nbdkit 5/3] x'), ext(DIFF), { config })).toMatchObject({ bucket: 'patch', reason: expect.stringContaining('numbered 5/3, past its total: kept in its series after part 3') }));
  test('a total of 0', () => expect(classifyMessage(headers('[master PATCH nbdkit 1/0] x'), ext(DIFF), { config })).toMatchObject({ bucket: 'quarantined', reason: 'subject tag [master PATCH nbdkit 1/0]: counter 1/0 has a total of 0' }));
  test('a patch tag without a diff', () => expect(classifyMessage(headers('[master PATCH nbdkit 1/3] x'), ext(''), { config }).bucket).toBe('quarantined'));
  test('unusable input is quarantined with its reason', () => expect(classifyMessage(headers('[master PATCH nbdkit] x'), ext(DIFF), { config, unusable: 'a NUL byte in the patch' })).toMatchObject({ bucket: 'quarantined', reason: 'unusable: a NUL byte in the patch' }));
  test('without a config: the tag route, not checked', () => {
    expect(classifyMessage(headers('[stable-9 PATCH anything] x'), ext(DIFF))).toMatchObject({ bucket: 'patch', reason: NO_CONFIG_REASON, route: { repo: 'anything', branch: 'stable-9' } });
    expect(classifyMessage(headers('[../x PATCH anything] x'), ext(DIFF)).bucket).toBe('quarantined');
  });
});
