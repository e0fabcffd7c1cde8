/** Series rules for sends without a version label, covers without threading and parts past their total (issue 18, items 4-6). */
import { buildSeries } from '../../src/harvest/series.js';
import type { MessageRecord } from '../../src/harvest/state/records.js';

const route = { repo: 'nbdkit', branch: 'master' };
const ann = { name: 'Ann', email: 'ann@example.org' };

/** A part sent at `minute` past 2023-02-01 00:00 UTC. */
function part(key: string, number: number, total: number, minute: number, extra: Partial<MessageRecord> = {}): MessageRecord {
  const commitSubject = number === 0 ? 'the series' : `change ${number}`;
  return {
    key,
    bucket: number === 0 ? 'cover' : 'patch',
    where: 'test',
    harvestedAt: '2026-01-01T00:00:00.000Z',
    subject: `[master PATCH nbdkit ${number}/${total}] ${commitSubject}`,
    from: ann,
    date: new Date(Date.UTC(2023, 1, 1, 0, minute)).toISOString(),
    route,
    version: 1,
    number,
    total,
    commitSubject,
    ...extra,
  };
}

function series(records: MessageRecord[]) {
  return [...buildSeries(new Map(records.map((r) => [r.key, r]))).values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

function outcome(records: MessageRecord[]) {
  return series(records).map((s) => ({
    id: s.id,
    status: s.status,
    supersededBy: s.supersededBy,
    cover: s.cover?.key,
    patches: s.patches.map((p) => p.record.key),
    missing: s.missing,
    beyondTotal: s.beyondTotal,
    replaced: s.replaced.map((r) => [r.record.key, r.by.key]),
  }));
}

function permutations<T>(list: T[]): T[][] {
  if (list.length <= 1) return [list];
  return list.flatMap((x, i) => permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((rest) => [x, ...rest]));
}

/** Every arrival order of `records` gives `want`. */
function expectAnyOrder(records: MessageRecord[], want: ReturnType<typeof outcome>): void {
  for (const order of permutations(records)) expect(outcome(order)).toEqual(want);
}

describe('a series sent again without a version label', () => {
  const first = [part('a0', 0, 2, 0), part('a1', 1, 2, 1, { inReplyTo: 'a0' }), part('a2', 2, 2, 2, { inReplyTo: 'a0' })];
  const again = [part('b0', 0, 2, 600), part('b1', 1, 2, 601, { inReplyTo: 'b0' }), part('b2', 2, 2, 602, { inReplyTo: 'b0' })];

  test('threaded to its own cover: the later send supersedes the earlier, in any arrival order', () => {
    const want = outcome([...first, ...again]);
    const newer = want.find((s) => s.cover === 'b0')!;
    expect(newer.status).toBe('ready');
    expect(want.find((s) => s.cover === 'a0')).toMatchObject({ status: 'superseded', supersededBy: newer.id });
    expectAnyOrder([...first, ...again], want);
  });

  test('without a cover, patch 1 answered by the others', () => {
    const one = [part('a1', 1, 2, 0), part('a2', 2, 2, 1, { inReplyTo: 'a1' })];
    const two = [part('b1', 1, 2, 90), part('b2', 2, 2, 91, { inReplyTo: 'b1' })];
    // unthreaded at the top, both sends group by sender: the later part takes each slot
    const [s] = outcome([...one, ...two]);
    expect(s).toMatchObject({ status: 'ready', patches: ['b1', 'b2'], replaced: [['a1', 'b1'], ['a2', 'b2']] });
  });

  test('not a resend: another sender, or other subjects', () => {
    const bob = again.map((r) => ({ ...r, from: { name: 'Bob', email: 'bob@example.org' } }));
    expect(outcome([...first, ...bob]).map((s) => s.status)).toEqual(['ready', 'ready']);
    const other = again.map((r) => ({ ...r, commitSubject: `${r.commitSubject} (other)` }));
    expect(outcome([...first, ...other]).map((s) => s.status)).toEqual(['ready', 'ready']);
  });

  test('a resend of the newest version supersedes it, and the older version points at the resend', () => {
    const v2 = (records: MessageRecord[], minutes: number) => records.map((r) => ({ ...r, key: `${r.key}v2`, version: 2, inReplyTo: r.inReplyTo && `${r.inReplyTo}v2`, date: new Date(Date.parse(r.date!) + minutes * 60000).toISOString() }));
    const v2first = v2(again, 10);
    const v2again = v2(again.map((r) => ({ ...r, key: `${r.key}r`, inReplyTo: r.inReplyTo && `${r.inReplyTo}r` })), 200);
    const want = outcome([...first, ...v2first, ...v2again]);
    const newest = want.find((s) => s.cover === 'b0rv2')!;
    expect(newest.status).toBe('ready');
    expect(want.filter((s) => s !== newest).map((s) => [s.status, s.supersededBy])).toEqual([
      ['superseded', newest.id],
      ['superseded', newest.id],
    ]);
  });
});

describe('a cover letter the patches do not answer', () => {
  const cover = part('c0', 0, 2, 0);
  const patches = [part('c1', 1, 2, 1), part('c2', 2, 2, 2)];

  test('same sender, same tag, close in time: one series with its cover, in any arrival order', () => {
    const want = outcome([cover, ...patches]);
    expect(want).toEqual([expect.objectContaining({ status: 'ready', cover: 'c0', patches: ['c1', 'c2'] })]);
    expectAnyOrder([cover, ...patches], want);
  });

  test('patches chained to patch 1 join the cover too', () => {
    expect(outcome([cover, part('c1', 1, 2, 1), part('c2', 2, 2, 2, { inReplyTo: 'c1' })])).toEqual([expect.objectContaining({ cover: 'c0', patches: ['c1', 'c2'] })]);
  });

  test('not joined: another sender, another total, or a day apart', () => {
    expect(outcome([{ ...cover, from: { name: 'Bob', email: 'bob@example.org' } }, ...patches])).toHaveLength(2);
    expect(outcome([part('c0', 0, 3, 0), ...patches])).toHaveLength(2);
    expect(outcome([part('c0', 0, 2, -24 * 60), ...patches])).toHaveLength(2);
  });

  test('two covers of one unthreaded send: the later is used, the earlier replaced', () => {
    const want = outcome([cover, part('c0b', 0, 2, 3), ...patches]);
    expect(want).toEqual([expect.objectContaining({ cover: 'c0b', replaced: [['c0', 'c0b']] })]);
  });

  test('a v2 cover answering a joined v1 cover supersedes that series', () => {
    const v2 = [part('d0', 0, 2, 60, { version: 2, inReplyTo: 'c0', commitSubject: 'the series, better' }), part('d1', 1, 2, 61, { version: 2, inReplyTo: 'd0' }), part('d2', 2, 2, 62, { version: 2, inReplyTo: 'd0' })];
    const want = outcome([cover, ...patches, ...v2]);
    const newer = want.find((s) => s.cover === 'd0')!;
    expect(want.find((s) => s.cover === 'c0')).toMatchObject({ status: 'superseded', supersededBy: newer.id, patches: ['c1', 'c2'] });
  });
});

describe('a part numbered past its total', () => {
  test('[PATCH 3/2] is kept in its series, in number order, and named', () => {
    const records = [part('e0', 0, 2, 0), part('e3', 3, 2, 5, { inReplyTo: 'e0' }), part('e1', 1, 2, 1, { inReplyTo: 'e0' }), part('e2', 2, 2, 2, { inReplyTo: 'e0' })];
    const want = outcome(records);
    expect(want).toEqual([expect.objectContaining({ status: 'ready', patches: ['e1', 'e2', 'e3'], missing: [], beyondTotal: [3] })]);
    expectAnyOrder(records, want);
  });

  test('without parts 1 and 2 the series is still incomplete', () => {
    expect(outcome([part('e0', 0, 2, 0), part('e3', 3, 2, 5, { inReplyTo: 'e0' })])).toEqual([expect.objectContaining({ status: 'incomplete', missing: [1, 2], beyondTotal: [3] })]);
  });
});
