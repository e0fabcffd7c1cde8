import type { Config } from '../../../src/core/config-types.js';
import { refNameProblem, reviewTrailers, routeTag, senderAllowed } from '../../../src/harvest/route.js';
import type { Extraction } from '../../../src/harvest/mail/types.js';

const config: Config = {
  sources: [],
  repos: {
    nbdkit: { url: 'file:///x', branches: ['master', 'stable-1.32'] },
    qemu: { url: 'file:///y', branches: ['master'], allowedSenders: ['maint@example.org', '@redhat.com'] },
  },
};
const tag = (branch: string, repo: string) => ({ branch, repo, version: 1, raw: `${branch} PATCH ${repo}` });
const person = (email: string) => ({ name: 'X', email });

describe('refNameProblem (git check-ref-format --branch)', () => {
  test.each(['master', 'stable-1.32', 'feature/x', 'v2.0', 'a_b'])('%s is valid', (name) => expect(refNameProblem(name)).toBeUndefined());
  test.each([
    ['..', 'contains ".."'],
    ['../../etc', 'contains ".."'],
    ['a~1', 'contains "~"'],
    ['a^', 'contains "^"'],
    ['a:b', 'contains ":"'],
    ['a?', 'contains "?"'],
    ['a*', 'contains "*"'],
    ['a[b', 'contains "["'],
    ['a\\b', 'contains "\\\\"'],
    ['a\u0001b', 'contains "\\u0001"'],
    ['a b', 'contains " "'],
    ['a@{1}', 'contains "@{"'],
    ['@', 'is "@"'],
    ['-rf', 'starts with "-"'],
    ['x.lock', 'has a path component ending with ".lock"'],
    ['a/b.lock/c', 'has a path component ending with ".lock"'],
    ['a/', 'has an empty path component ("/" at either end or "//")'],
    ['/a', 'has an empty path component ("/" at either end or "//")'],
    ['a//b', 'has an empty path component ("/" at either end or "//")'],
    ['a.', 'ends with "."'],
    ['a/.b', 'has a path component starting with "."'],
    ['a;b', 'contains ";"'],
    ['a|b', 'contains "|"'],
    ['a&b', 'contains "&"'],
    ['$(x)', 'contains "$"'],
    ['a<b', 'contains "<"'],
    ['a`b', 'contains "`"'],
    ['', 'is empty'],
  ])('%j: %s', (name, why) => expect(refNameProblem(name)).toBe(why));
});

describe('routeTag', () => {
  test('a configured repo and branch', () => expect(routeTag(tag('stable-1.32', 'nbdkit'), undefined, config)).toEqual({ route: { repo: 'nbdkit', branch: 'stable-1.32' } }));
  test('an unknown branch names the known ones', () =>
    expect(routeTag(tag('stable-9', 'nbdkit'), undefined, config)).toEqual({ reason: 'branch "stable-9" is not configured for repo nbdkit (known: master, stable-1.32)' }));
  test('an unknown repo names the known ones', () => expect(routeTag(tag('master', 'libvirt'), undefined, config)).toEqual({ reason: 'repo "libvirt" is not configured (known: nbdkit, qemu)' }));
  test('an inherited property name is no repo', () => expect(routeTag(tag('master', 'constructor'), undefined, config)).toEqual({ reason: 'repo "constructor" is not configured (known: nbdkit, qemu)' }));
  test('a bad branch word is refused before lookup', () =>
    expect(routeTag(tag('master;reboot', 'nbdkit'), undefined, config)).toEqual({ reason: 'branch word "master;reboot" contains ";": not a valid git branch name' }));
  test('a repo word with a slash', () => expect(routeTag(tag('master', 'a/b'), undefined, config)).toEqual({ reason: 'repo word "a/b" contains "/": not a usable name' }));
  test('the sender allowlist: exact address and @domain', () => {
    expect(routeTag(tag('master', 'qemu'), person('maint@example.org'), config)).toEqual({ route: { repo: 'qemu', branch: 'master' } });
    expect(routeTag(tag('master', 'qemu'), person('RJones@RedHat.com'), config)).toEqual({ route: { repo: 'qemu', branch: 'master' } });
    expect(routeTag(tag('master', 'qemu'), person('evil@example.org'), config)).toEqual({ reason: 'sender "evil@example.org" not allowed for repo qemu' });
    expect(routeTag(tag('master', 'qemu'), undefined, config)).toEqual({ reason: 'sender (none) not allowed for repo qemu' });
  });
  test('senderAllowed does not take a domain suffix for a domain', () => expect(senderAllowed('x@notredhat.com', ['@redhat.com'])).toBe(false));
});

describe('reviewTrailers', () => {
  const ext = (body: string): Extraction => ({ author: { name: '', email: '' }, subject: '', body, diff: '', trailers: [], pullRequest: false });
  test('own lines only, any case, canonical spelling, no repeats', () => {
    const body = [
      'On Mon, X wrote:',
      '> Reviewed-by: Quoted <q@example.org>',
      '>> Acked-by: Deeper <d@example.org>',
      '',
      'Reviewed-By: Rev One <r1@example.org>',
      'acked-by: Ack Two <a2@example.org>',
      '  Tested-by: Tess Three <t3@example.org>',
      'Reviewed-by: Rev One <r1@example.org>',
      'Signed-off-by: Not A Review <s@example.org>',
      '-- ',
      'Reviewed-by: In The Signature <sig@example.org>',
    ].join('\n');
    expect(reviewTrailers(ext(body))).toEqual(['Reviewed-by: Rev One <r1@example.org>', 'Acked-by: Ack Two <a2@example.org>', 'Tested-by: Tess Three <t3@example.org>']);
  });
});
