import { parseSubjectTag } from '../../../src/harvest/mail/subject.js';

describe('parseSubjectTag', () => {
  test.each([
    ['[stable-2.1 PATCH v2 3/7 libvirt] x', { branch: 'stable-2.1', repo: 'libvirt', version: 2, number: 3, total: 7 }],
    ['[master PATCH nbdkit v2 3/4] x', { branch: 'master', repo: 'nbdkit', version: 2, number: 3, total: 4 }],
    ['[master PATCH qemu] x', { branch: 'master', repo: 'qemu', version: 1 }],
    ['[master PATCH 0/4 nbdkit] cover', { branch: 'master', repo: 'nbdkit', version: 1, number: 0, total: 4 }],
    ['[RFC master PATCH nbdkit v3] x', { branch: 'master', repo: 'nbdkit', version: 3 }],
    ['[master PATCH RESEND nbdkit] x', { branch: 'master', repo: 'nbdkit', version: 1 }],
    ['[Libguestfs] [master PATCH nbdkit 1/2] list tag first', { branch: 'master', repo: 'nbdkit', version: 1, number: 1, total: 2 }],
    ['[PATCH v2 1/3] plain', { version: 2, number: 1, total: 3 }],
    ['[PATCH] plain', { version: 1 }],
  ])('%s', (subject, want) => {
    const facts = parseSubjectTag(subject);
    expect(facts.looksLikePatch).toBe(true);
    expect(facts.isReply).toBe(false);
    const { raw: _raw, ...tag } = facts.tag!;
    expect(tag).toEqual(want);
  });

  test.each(['Re: [PATCH] x', 'RE: x', 'AW: x', 'Fwd: x', 'Fw: x', 'SV: x', 'Re:Re: x', 're : x', 'AW:Re: [master PATCH nbdkit 1/2] x', '[Libguestfs] Re: [PATCH] x'])(
    '%s is a reply',
    (subject) => expect(parseSubjectTag(subject).isReply).toBe(true),
  );

  test.each(['Reply needed: x', 'Release notes', 'Rework [PATCH]', 'Are: x'])('%s is not a reply', (subject) => expect(parseSubjectTag(subject).isReply).toBe(false));

  test('[GIT PULL] is a pull request and no patch', () => {
    expect(parseSubjectTag('[GIT PULL] nbdkit stable-1.30 fixes')).toMatchObject({ isPullRequest: true, looksLikePatch: false });
  });

  test('a question is neither', () => {
    expect(parseSubjectTag('nbdkit-curl-plugin: how many connections?')).toEqual({ isReply: false, isPullRequest: false, looksLikePatch: false });
  });

  test('several words where one belongs are kept together (and refused later)', () => {
    expect(parseSubjectTag('[foo bar PATCH baz qux] x').tag).toMatchObject({ branch: 'foo bar', repo: 'baz qux' });
  });

  test('a configured regex with named groups', () => {
    const pattern = /^\[(?<repo>[\w.-]+):(?<branch>[\w.-]+)\s+PATCH(?:\s+v(?<version>\d+))?(?:\s+(?<number>\d+)\/(?<total>\d+))?\]/;
    expect(parseSubjectTag('[nbdkit:stable-1.32 PATCH v3 2/5] x', pattern).tag).toEqual({ repo: 'nbdkit', branch: 'stable-1.32', version: 3, number: 2, total: 5, raw: '[nbdkit:stable-1.32 PATCH v3 2/5]' });
    const miss = parseSubjectTag('[master PATCH nbdkit] x', pattern);
    expect(miss.tag).toBeUndefined();
    expect(miss.looksLikePatch).toBe(true);
  });

  test('a huge subject stays linear', () => {
    const facts = parseSubjectTag('[' + 'a '.repeat(5_000_000));
    expect(facts.looksLikePatch).toBe(false);
  });
});
