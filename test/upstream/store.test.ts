import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILDS_FILE, PROJECTS_FILE, openUpstreamStore, upstreamDir } from '../../src/upstream/store.js';
import type { UpstreamBuildRecord } from '../../src/upstream/types.js';

export function record(i: number, project = `p${i % 3}`, status: UpstreamBuildRecord['status'] = 'SUCCESS'): UpstreamBuildRecord {
  const sha = i.toString(16).padStart(40, '0');
  return {
    id: `${project}/el9/${sha}_deadbeef`,
    project,
    platform: 'el9',
    commit: { sha, commitTime: '2026-12-01T00:00:00Z', author: { name: 'A U Thor', email: 'a@example.org' }, subject: `commit ${i}` },
    distgitSha: 'deadbeef'.padEnd(40, '0'),
    status,
    builtAt: '2026-12-01T00:00:00Z',
    runId: '20261201T000000Z',
    nvr: `${project}-1.0-0.20261201000000.${sha.slice(0, 7)}.noarch`,
    rpms: [`${project}-1.0-0.20261201000000.${sha.slice(0, 7)}.noarch.rpm`],
    retries: 0,
  };
}

describe('upstream build store (JSON lines, fsynced, torn tail ignored)', () => {
  let state: string;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'pl-upstore-'));
  });

  test('records and project states survive reopening; order is insertion order; a put again replaces in place', () => {
    const s = openUpstreamStore(state);
    expect(s.all()).toEqual([]);
    for (let i = 0; i < 5; i++) s.put(record(i));
    s.put({ ...record(1), status: 'FAILED' });
    s.putProjectState({ project: 'p0', lastProcessed: 'abc', updatedAt: 'x' });
    s.putProjectState({ project: 'p0', lastProcessed: 'def', updatedAt: 'y' });
    s.close();
    const t = openUpstreamStore(state);
    expect(t.all().map((r) => r.commit.subject)).toEqual(['commit 0', 'commit 1', 'commit 2', 'commit 3', 'commit 4']);
    expect(t.get(record(1).id)!.status).toBe('FAILED');
    expect(t.newest(2).map((r) => r.commit.subject)).toEqual(['commit 4', 'commit 3']);
    expect(t.ofProject('p1').map((r) => r.commit.subject)).toEqual(['commit 1', 'commit 4']);
    expect(t.projectState('p0')!.lastProcessed).toBe('def');
    expect(t.projects()).toHaveLength(1);
    t.put(record(9, 'p1'));
    expect(t.ofProject('p1')).toHaveLength(3); // the per-project index follows puts
  });

  test('a torn last line (crash mid-append) is ignored, and the next put lands on a clean line', () => {
    const s = openUpstreamStore(state);
    s.put(record(0));
    const path = join(upstreamDir(state), BUILDS_FILE);
    appendFileSync(path, JSON.stringify(record(1)).slice(0, 40));
    const t = openUpstreamStore(state);
    expect(t.all()).toHaveLength(1);
    t.put(record(2));
    const u = openUpstreamStore(state);
    expect(u.all().map((r) => r.commit.subject)).toEqual(['commit 0', 'commit 2']);
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  test('a damaged line in the middle is an error naming the file, not silently skipped', () => {
    const path = join(upstreamDir(state), PROJECTS_FILE);
    openUpstreamStore(state).putProjectState({ project: 'p', updatedAt: 'x' });
    writeFileSync(path, '{oops\n' + readFileSync(path, 'utf8'));
    expect(() => openUpstreamStore(state)).toThrow(/upstream project states is damaged at line 1/);
  });

  test('project states are compacted and still read back', () => {
    const s = openUpstreamStore(state);
    for (let i = 0; i < 1200; i++) s.putProjectState({ project: `p${i % 2}`, lastProcessed: String(i), updatedAt: 'x' });
    const lines = readFileSync(join(upstreamDir(state), PROJECTS_FILE), 'utf8').split('\n').filter(Boolean).length;
    expect(lines).toBeLessThan(600);
    const t = openUpstreamStore(state);
    expect(t.projectState('p1')!.lastProcessed).toBe('1199');
  });

  // how fast is bench:upstream's to say (its pages part opens a store of 100,000 records), not a timed assertion's
  test('100,000 records appended outside the store: it loads them, newest(300) is the newest first, ofProject one project\'s', () => {
    const path = join(upstreamDir(state), BUILDS_FILE);
    openUpstreamStore(state).put(record(0));
    const lines: string[] = [];
    for (let i = 1; i < 100_000; i++) lines.push(JSON.stringify(record(i)));
    appendFileSync(path, lines.join('\n') + '\n');
    const s = openUpstreamStore(state);
    const newest = s.newest(300);
    const p = s.ofProject('p1');
    expect(newest).toHaveLength(300);
    expect(newest[0]!.commit.subject).toBe('commit 99999');
    expect(p.length).toBe(33_333);
  });
});
