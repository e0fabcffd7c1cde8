/**
 * The parse worker's warm-up mails must take the paths real mail takes (else the warm-up compiles
 * the wrong code), and the warm-up must stop at the first request.
 */
import type { Config } from '../../src/core/config-types.js';
import { classifyMessage } from '../../src/harvest/classify.js';
import { examineMessage } from '../../src/harvest/examine.js';
import { planStage } from '../../src/harvest/staging.js';
import { warmUp, warmUpMails } from '../../src/harvest/warm-up.js';

const CONFIG = { sources: [], repos: { qemu: { url: 'https://gitlab.com/qemu-project/qemu.git', branches: ['stable-9.0', 'master'] } } } as unknown as Config;

test('the warm-up mails are a routed series, a review, chatter and a pull request, in every transfer encoding', () => {
  const seen = warmUpMails(CONFIG).map((raw) => {
    const { facts, extraction } = examineMessage(raw, { maxBytes: 1 << 20 });
    const c = classifyMessage(facts.headers, facts.parsed, { config: CONFIG, unusable: facts.parsed?.unusable });
    const plan = extraction ? planStage(facts, extraction, CONFIG) : undefined;
    return { bucket: c.bucket, route: c.route && `${c.route.repo}/${c.route.branch}`, author: facts.parsed?.author.name, staged: plan?.base, diff: extraction?.diff.includes('+exit 0') ?? false };
  });
  expect(seen.map((s) => s.bucket)).toEqual(['cover', 'patch', 'patch', 'patch', 'comment', 'patch', 'other', 'pull-request']);
  expect(new Set(seen.filter((s) => s.bucket === 'patch' || s.bucket === 'cover').map((s) => s.route))).toEqual(new Set(['qemu/stable-9.0']));
  // the plain, quoted-printable and base64-attached patches all yield the whole diff and a patch file
  expect(seen.slice(1, 4).map((s) => [s.diff, s.staged])).toEqual([
    [true, '0001-server-reject-unknown-request-flags'],
    [true, '0002-server-say-which-flags'],
    [true, '0003-tests-unknown-flags'],
  ]);
  expect(seen[1]!.author).toBe('Ann Autör'); // RFC 2047
});

test('the warm-up stops at the first request, and without repos it still runs', async () => {
  let asked = 0;
  let stopAfter = 3;
  await new Promise<void>((resolve) => {
    warmUp(CONFIG, 1 << 20, () => {
      asked += 1;
      if (asked < stopAfter) return false;
      resolve();
      return true;
    });
  });
  expect(asked).toBe(3);
  stopAfter = asked + 2;
  await new Promise<void>((resolve) => warmUp({ ...CONFIG, repos: {} }, 1 << 20, () => (++asked >= stopAfter ? (resolve(), true) : false)));
  expect(asked).toBe(stopAfter);
});
