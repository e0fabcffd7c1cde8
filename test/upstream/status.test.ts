/**
 * `patchline upstream status`: the view the pages are rendered from, out of a real store and the
 * queue the last run wrote; the CLI's --json equal to the numbers status_report.html shows.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeUpstreamPages } from '../../src/upstream/pages.js';
import { TIMELINE_LENGTH, queueFileOf, upstreamStatusView, type UpstreamStatusView } from '../../src/upstream/status.js';
import { openUpstreamStore } from '../../src/upstream/store.js';
import { build, commit, writeHistory } from './history-fixture.js';
import { CLI } from '../support/cli.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const DAY = 24 * 3600 * 1000;

function stateDir(): string {
  return mkdtempSync(join(tmpdir(), 'pl-ustatus-'));
}

/** A config with the upstream projects of the history; the state dir beside it. */
function configIn(dir: string, projects = ['nova', 'glance', 'swift', 'keystone']): string {
  const file = join(dir, 'patchline.yaml');
  const upstream = { commitUrl: 'https://forge.example.org/{project}/commit/{sha}', projects: Object.fromEntries(projects.map((p) => [p, { upstream: `${p}.git`, distgit: `${p}-distgit.git`, spec: `${p}.spec` }])) };
  writeFileSync(file, JSON.stringify({ sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }], repos: { nova: { url: 'nova.git', branches: ['master'] } }, stateDir: 'state', upstream }));
  return file;
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'upstream', 'status', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The cells of status_report.html's rows, tags stripped. */
function statusCells(html: string): string[][] {
  return [...html.matchAll(/<tr data-row="[^"]*">([^]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td[^>]*>([^]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim()));
}

describe('upstream status', () => {
  test('the view: status, first failure after the last success (and its bisected culprit), days since success from a fixed now, RETRY counts, queue', () => {
    const store = openUpstreamStore(stateDir());
    const { queue, c } = writeHistory(store, NOW);
    const view = upstreamStatusView(store, queue, { now: new Date(NOW), commitUrl: 'https://forge.example.org/{project}/commit/{sha}' });
    const brief = view.projects.map((p) => [`${p.project}/${p.platform}`, p.status, p.daysSinceSuccess, p.retries, p.firstFailure?.commit.sha ?? null, p.firstFailure?.firstBadCommit?.sha ?? null]);
    expect(brief).toEqual([
      ['glance/el9', 'FAILED', null, 0, null, null],
      ['keystone/null', 'NONE', null, 0, null, null],
      // the RETRYs after the recovery: neither a failure nor a success
      ['nova/el9', 'RETRY', 6, 2, null, null],
      // the bisection's own success is older code: the last success stays the one ten days ago
      ['nova/f40', 'FAILED', 9, 0, c.fHead.sha, c.fBad.sha],
      ['swift/el9', 'SUCCESS', 0, 0, null, null],
    ]);
    expect(view.projects.find((p) => p.platform === 'f40')!.firstFailure!.firstBadCommit!.url).toBe(`https://forge.example.org/nova/commit/${c.fBad.sha}`);
    expect(view.timeline.map((e) => e.commit.sha)[0]).toBe(c.s1.sha);
    expect(view.queue!.projects.find((p) => p.project === 'keystone')).toEqual({ project: 'keystone', queued: 0, idle: 'clone failed', detail: 'fatal: repository <not> found' });

    // the day the failure was fixed: nova/el9 succeeds again, a day later the count restarts at 0
    store.put(build('nova', 'el9', c.n6, 'SUCCESS', NOW, { retries: 2, attempt: 2 }));
    const later = upstreamStatusView(store, queue, { now: new Date(NOW + 1.5 * DAY) }).projects.find((p) => p.platform === 'el9' && p.project === 'nova')!;
    expect([later.status, later.daysSinceSuccess, later.retries, later.firstFailure]).toEqual(['SUCCESS', 1, 2, null]);
    // a failure after that success is the first failure; the one before the success is forgotten
    const n7 = commit('nova', NOW + DAY);
    store.put(build('nova', 'el9', n7, 'FAILED', NOW + 2 * DAY));
    store.put(build('nova', 'el9', commit('nova', NOW + 2 * DAY), 'FAILED', NOW + 3 * DAY));
    const failing = upstreamStatusView(store, queue, { now: new Date(NOW + 3 * DAY) }).projects.find((p) => p.platform === 'el9' && p.project === 'nova')!;
    expect([failing.status, failing.daysSinceSuccess, failing.firstFailure?.commit.sha, failing.retries]).toEqual(['FAILED', 3, n7.sha, 0]);
  });

  test('a long history (the view reads from the newest builds back): a last success far back, a project that never succeeded, a quiet project are all found', () => {
    const state = stateDir();
    const store = openUpstreamStore(state);
    const at = (i: number) => NOW - (10000 - i) * 60_000;
    // quiet: its last success and failure before the busy project's 1100 builds (the view's first window is 1024)
    const quietOk = commit('quiet', at(0));
    const quietBad = commit('quiet', at(1));
    store.put(build('quiet', 'el9', quietOk, 'SUCCESS', at(0)));
    store.put(build('quiet', 'el9', quietBad, 'FAILED', at(1)));
    // never: failing from its first build on, its builds spread through the busy ones
    const neverFirst = commit('never', at(2));
    store.put(build('never', 'el9', neverFirst, 'FAILED', at(2)));
    for (let i = 3; i < 1103; i++) store.put(build(i % 500 === 0 ? 'never' : 'busy', 'el9', commit('busy', at(i)), i % 500 === 0 ? 'FAILED' : 'SUCCESS', at(i)));
    for (const project of ['quiet', 'never', 'busy']) store.putProjectState({ project, lastProcessed: 'x', updatedAt: 'x' });
    const rows = upstreamStatusView(openUpstreamStore(state), undefined, { now: new Date(NOW) }).projects;
    expect(rows.map((p) => [p.project, p.status, p.lastSuccess?.sha ?? null, p.firstFailure?.commit.sha ?? null, p.daysSinceSuccess])).toEqual([
      ['busy', 'SUCCESS', store.all().at(-1)!.commit.sha, null, 6],
      ['never', 'FAILED', null, null, null],
      ['quiet', 'FAILED', quietOk.sha, quietBad.sha, 6],
    ]);
  });

  test('the timeline holds the newest 300 builds, newest first; --project keeps one project', () => {
    const store = openUpstreamStore(stateDir());
    for (let i = 0; i < 350; i++) store.put(build(i % 2 ? 'nova' : 'glance', 'el9', commit('x', NOW - (400 - i) * 3600e3), i % 7 ? 'SUCCESS' : 'FAILED', NOW - (350 - i) * 3600e3));
    const view = upstreamStatusView(store, undefined, { now: new Date(NOW) });
    expect(view.timeline).toHaveLength(TIMELINE_LENGTH);
    expect(view.timeline[0]!.id).toBe(store.all().at(-1)!.id);
    expect(view.timeline.at(-1)!.id).toBe(store.all()[50]!.id);
    expect(view.queue).toBeNull();
    const nova = upstreamStatusView(store, undefined, { now: new Date(NOW), project: 'nova' });
    expect([nova.timeline.length, nova.projects.map((p) => p.project), new Set(nova.timeline.map((e) => e.project))]).toEqual([175, ['nova'], new Set(['nova'])]);
  });

  test('the CLI: --json is the view the pages show (same numbers as status_report.html); text; --project; config and usage errors exit 2 with one line', () => {
    const dir = stateDir();
    const config = configIn(dir);
    const state = join(dir, 'state');
    const store = openUpstreamStore(state);
    // relative to the real clock: the CLI counts days from now (whole days are stable within the test)
    const now = Date.now();
    const { queue } = writeHistory(store, now);
    mkdirSync(join(state, 'upstream'), { recursive: true });
    writeFileSync(queueFileOf(state), JSON.stringify(queue));
    writeUpstreamPages(store, queue, join(dir, 'pages'), { now: new Date(now) });

    const json = cli(['--json', '--config', config]);
    expect([json.status, json.stderr]).toEqual([0, '']);
    const view = JSON.parse(json.stdout) as UpstreamStatusView;
    expect({ ...view, generatedAt: 'x' }).toEqual({ ...upstreamStatusView(store, queue, { now: new Date(now), commitUrl: 'https://forge.example.org/{project}/commit/{sha}' }), generatedAt: 'x' });
    const shown = statusCells(readFileSync(join(dir, 'pages', 'status_report.html'), 'utf8'));
    expect(shown.map((r) => [r[0], r[1], r[2]!.split(' ')[0], r[3], r[5], r[6]])).toEqual(
      view.projects.map((p) => [p.project, p.platform ?? '', p.status, p.nvr ?? '', p.daysSinceSuccess === null ? 'never' : String(p.daysSinceSuccess), String(p.retries)]),
    );
    expect(view.queue!.items).toHaveLength(1);

    const text = cli(['--config', config, '--project', 'nova']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('nova/el9: RETRY');
    expect(text.stdout).toContain('last success 6 days ago');
    expect(text.stdout).toMatch(/nova\/f40: FAILED[^]*first bad commit: \w{12} nova: drop the f40 patch \(Author nova\)/);
    expect(text.stdout).not.toContain('glance');
    expect(text.stdout).toContain('nova/el9 ');

    const bad = cli(['--config', join(dir, 'missing.yaml')]);
    expect([bad.status, bad.stdout, bad.stderr.trim().split('\n').length]).toEqual([2, '', 1]);
    expect(bad.stderr).toMatch(/^patchline: ECONFIG /);
    const unknown = cli(['--config', config, '--project', 'cinder']);
    expect([unknown.status, unknown.stderr.trim()]).toEqual([2, 'patchline: EUSAGE --project cinder: not a configured upstream project (known: nova, glance, swift, keystone) [cinder]']);

    // a fresh state dir: the configured projects, nothing built, no queue yet
    const fresh = cli(['--json', '--config', configIn(stateDir(), ['nova'])]);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ timeline: [], projects: [{ project: 'nova', platform: null, status: 'NONE', daysSinceSuccess: null }], queue: null });
  });
});
