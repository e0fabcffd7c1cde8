/** Series rules on plain records: threading styles, versions, trailers, any order. */
import { buildSeries } from '../../src/harvest/series.js';
import type { MessageRecord } from '../../src/harvest/state/records.js';

const route = { repo: 'nbdkit', branch: 'master' };
let clock = 0;
function part(key: string, number: number, total: number, extra: Partial<MessageRecord> = {}): MessageRecord {
  clock += 1;
  return {
    key,
    bucket: number === 0 ? 'cover' : 'patch',
    where: 'test',
    harvestedAt: '2026-01-01T00:00:00.000Z',
    subject: `[master PATCH nbdkit ${number}/${total}] change ${key}`,
    from: { name: 'A', email: 'a@example.org' },
    date: new Date(Date.UTC(2023, 1, 1, 0, 0, clock)).toISOString(),
    route,
    version: 1,
    number,
    total,
    commitSubject: number === 0 ? 'the series' : `change ${key}`,
    ...extra,
  };
}

function reply(key: string, inReplyTo: string, trailers: string[]): MessageRecord {
  return { key, bucket: 'comment', where: 'test', harvestedAt: '2026-01-01T00:00:00.000Z', subject: 'Re: x', inReplyTo, trailers, date: '2023-02-02T00:00:00.000Z' };
}

function outcome(records: MessageRecord[]) {
  const series = buildSeries(new Map(records.map((r) => [r.key, r])));
  return [...series.values()].map((s) => ({ id: s.id, status: s.status, missing: s.missing, supersededBy: s.supersededBy, patches: s.patches.map((p) => [p.number, p.record.key, p.trailers]) })).sort((a, b) => (a.id < b.id ? -1 : 1));
}

function permutations<T>(list: T[]): T[][] {
  if (list.length <= 1) return [list];
  return list.flatMap((x, i) => permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((rest) => [x, ...rest]));
}

test('shallow threading without a cover (patches answer patch 1), chained threading, and none at all: one series each', () => {
  const shallow = [part('s1', 1, 3), part('s2', 2, 3, { inReplyTo: 's1' }), part('s3', 3, 3, { inReplyTo: 's1' })];
  const chained = [part('c0', 0, 2), part('c1', 1, 2, { inReplyTo: 'c0' }), part('c2', 2, 2, { inReplyTo: 'c1' })].map((r) => ({ ...r, route: { repo: 'nbdkit', branch: 'stable' } }));
  const none = [part('n1', 1, 2), part('n2', 2, 2)].map((r) => ({ ...r, from: { name: 'B', email: 'b@example.org' } }));
  const result = outcome([...shallow, ...chained, ...none]);
  expect(result.map((s) => [s.status, s.patches.map((p) => p[1])])).toEqual(
    expect.arrayContaining([
      ['ready', ['s1', 's2', 's3']],
      ['ready', ['c1', 'c2']],
      ['ready', ['n1', 'n2']],
    ]),
  );
  expect(result).toHaveLength(3);
});

test('every arrival order gives the same series: v2 supersedes v1, trailers from replies to the cover and to a patch', () => {
  const v1 = [part('a0', 0, 2), part('a1', 1, 2, { inReplyTo: 'a0' }), part('a2', 2, 2, { inReplyTo: 'a0' })];
  const v2 = [part('b0', 0, 2, { inReplyTo: 'a0', version: 2 }), part('b1', 1, 2, { inReplyTo: 'b0', version: 2 }), part('b2', 2, 2, { inReplyTo: 'b0', version: 2 })];
  const replies = [reply('r-cover', 'b0', ['Reviewed-by: R <r@x>']), reply('r-patch', 'b2', ['Tested-by: T <t@x>']), reply('r-nested', 'r-patch', ['Acked-by: K <k@x>'])];
  const all = [...v1, ...v2, ...replies];
  const want = outcome(all);
  const v2Series = want.find((s) => s.patches[0]![1] === 'b1')!;
  expect(v2Series.patches.map((p) => p[2])).toEqual([['Reviewed-by: R <r@x>'], ['Reviewed-by: R <r@x>', 'Acked-by: K <k@x>', 'Tested-by: T <t@x>']]);
  expect(want.find((s) => s.patches[0]![1] === 'a1')).toMatchObject({ status: 'superseded', supersededBy: v2Series.id });
  // replies in (Date, key) order; every order of the v2 parts and the replies, v1 before or after them
  for (const [i, order] of permutations([...v2, ...replies]).entries()) {
    expect(outcome(i % 2 ? [...order, ...v1] : [...v1, ...order])).toEqual(want);
  }
});

test('a series whose cover has not arrived is keyed by it, and completes when the missing part arrives', () => {
  const early = [part('x2', 2, 3, { inReplyTo: 'x0' }), part('x3', 3, 3, { inReplyTo: 'x0' })];
  const first = outcome(early);
  expect(first).toEqual([expect.objectContaining({ status: 'incomplete', missing: [1] })]);
  const complete = outcome([...early, part('x1', 1, 3, { inReplyTo: 'x0' }), part('x0', 0, 3)]);
  expect(complete).toEqual([expect.objectContaining({ status: 'ready', missing: [] })]);
  expect(complete[0]!.id.slice(-8)).toBe(first[0]!.id.slice(-8));
});
