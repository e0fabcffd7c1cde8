import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger, ledgerPath } from '../../src/ledger/store.js';
import type { LedgerEntry } from '../../src/ledger/types.js';

function entry(id: string, status: LedgerEntry['status'] = 'ready'): LedgerEntry {
  return {
    id,
    repo: 'hello',
    branch: 'main',
    version: 1,
    status,
    harvested: { run: '20261201T000000Z', at: '2026-12-01T00:00:00Z' },
    series: { id, repo: 'hello', branch: 'main', version: 1, total: 1, status, patches: [] },
    builds: {},
    published: {},
  };
}

describe('series ledger store (JSON lines, fsynced appends, compaction)', () => {
  let state: string;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'pl-ledger-'));
  });

  test('an empty state dir reads as an empty ledger, and reading writes nothing', () => {
    const l = Ledger.open(state);
    expect(l.size).toBe(0);
    expect(() => statSync(ledgerPath(state))).toThrow();
  });

  test('the last line of an id wins, across reopenings', () => {
    const l = Ledger.open(state);
    l.put([entry('a'), entry('b')]);
    l.put([{ ...entry('a'), status: 'superseded' }]);
    const again = Ledger.open(state);
    expect(again.size).toBe(2);
    expect(again.get('a')!.status).toBe('superseded');
    expect(again.get('b')!.status).toBe('ready');
  });

  test('a torn last line (a crash mid-append) is ignored on read and cut off before the next append', () => {
    Ledger.open(state).put([entry('a')]);
    appendFileSync(ledgerPath(state), JSON.stringify(entry('b')).slice(0, 40)); // no newline: never acknowledged
    const l = Ledger.open(state);
    expect([...l.all()].map((e) => e.id)).toEqual(['a']);
    l.put([entry('c')]);
    const text = readFileSync(ledgerPath(state), 'utf8');
    expect(text.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as LedgerEntry).id)).toEqual(['a', 'c']);
    expect([...Ledger.open(state).all()].map((e) => e.id)).toEqual(['a', 'c']);
  });

  test('a damaged line in the middle is an error naming the line, not silently skipped', () => {
    Ledger.open(state).put([entry('a')]);
    writeFileSync(ledgerPath(state), readFileSync(ledgerPath(state), 'utf8') + '{oops\n' + JSON.stringify(entry('b')) + '\n');
    expect(() => Ledger.open(state)).toThrow(/damaged at line 2/);
  });

  test('many changes of few entries are compacted to one line each, nothing lost', () => {
    const l = Ledger.open(state);
    l.put([entry('a'), entry('b')]);
    for (let i = 0; i < 2100; i++) l.put([{ ...entry(i % 2 ? 'a' : 'b'), version: i }]);
    const lines = readFileSync(ledgerPath(state), 'utf8').split('\n').filter(Boolean).length;
    expect(lines).toBeLessThan(200);
    const again = Ledger.open(state);
    expect(again.get('a')!.version).toBe(2099);
    expect(again.get('b')!.version).toBe(2098);
  });
});
