/**
 * A realistic upstream history for the pages and `upstream status`: successes, a failure and its
 * recovery, RETRY twice, a failure found by head-only that a bisection traced, a project that never
 * built, a subject carrying HTML, and one project whose clone failed. Times are relative to `now`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommitInfo, UpstreamBuildRecord, UpstreamBuildStatus, UpstreamQueue, UpstreamStore } from '../../src/upstream/types.js';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
export const HTML_SUBJECT = `Handle <script>alert("x")</script> & <b>bold</b> names`;

let counter = 0;
/** A sha that sorts nowhere in particular (the store must not care). */
function sha(tag: string): string {
  counter++;
  let h = 0x811c9dc5;
  for (const ch of `${tag}${counter}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return (h.toString(16).padStart(8, '0') + counter.toString(16).padStart(8, '0')).repeat(3).slice(0, 40);
}

export function commit(tag: string, at: number, subject = `${tag}: a change`): CommitInfo {
  return { sha: sha(tag), commitTime: new Date(at).toISOString(), author: { name: `Author ${tag}`, email: `${tag}@example.org` }, subject };
}

const DISTGIT = 'd15717'.padEnd(40, 'a');

interface BuildOpts {
  retries?: number;
  bisect?: boolean;
  firstBadCommit?: CommitInfo;
  attempt?: number;
}

export function build(project: string, platform: string, c: CommitInfo, status: UpstreamBuildStatus, builtAt: number, o: BuildOpts = {}): UpstreamBuildRecord {
  const dir = `repos/${c.sha.slice(0, 2)}/${c.sha.slice(2, 4)}/${c.sha}_${DISTGIT.slice(0, 8)}`;
  const release = `0.${c.commitTime.replace(/\D/g, '').slice(0, 14)}.${c.sha.slice(0, 7)}`;
  const nvr = `${project}-1.0-${release}.el9`;
  return {
    id: `${project}/${platform}/${c.sha}_${DISTGIT.slice(0, 8)}${o.attempt ? `#${o.attempt}` : ''}`,
    project,
    platform,
    commit: c,
    distgitSha: DISTGIT,
    status,
    builtAt: new Date(builtAt).toISOString(),
    runId: new Date(builtAt).toISOString().replace(/[-:]/g, '').slice(0, 15) + 'Z',
    nvr,
    rpms: status === 'SUCCESS' ? [`${nvr}.noarch.rpm`] : [],
    log: `${dir}/${platform}/build.log${o.attempt ? `.${o.attempt}` : ''}`,
    ...(status === 'SUCCESS' ? { repoPath: dir } : {}),
    retries: o.retries ?? 0,
    ...(o.bisect ? { bisect: true } : {}),
    ...(o.firstBadCommit ? { firstBadCommit: o.firstBadCommit } : {}),
    ...(status === 'FAILED' ? { failure: { step: 'rpmbuild', signature: 'error: File not found', message: `error: File not found: /builddir/${project}.conf` } } : {}),
  };
}

export interface History {
  records: UpstreamBuildRecord[];
  queue: UpstreamQueue;
  /** Commits the expectations name. */
  c: Record<string, CommitInfo>;
}

/** Put the history into `store` (oldest first), as upstream runs would over the ten days before `now`. */
export function writeHistory(store: UpstreamStore, now: number): History {
  const t = (days: number, hours = 0) => now - days * DAY + hours * HOUR;
  const c = {
    n1: commit('nova', t(10.5)),
    n2: commit('nova', t(9.5)),
    n3: commit('nova', t(8.5), 'nova: move the config file'),
    n4: commit('nova', t(7.5)),
    n5: commit('nova', t(6.5), 'nova: ship the config file again'),
    n6: commit('nova', t(2.5), 'nova: mirror hiccup'),
    fOld: commit('nova', t(10.6)),
    fGood: commit('nova', t(3.6)),
    fBad: commit('nova', t(3.5), 'nova: drop the f40 patch'),
    fHead: commit('nova', t(3.2), 'nova: head of three'),
    g1: commit('glance', t(5)),
    g2: commit('glance', t(1)),
    s1: commit('swift', t(0.5), HTML_SUBJECT),
  };
  const records = [
    build('nova', 'el9', c.n1, 'SUCCESS', t(10)),
    build('nova', 'f40', c.fOld, 'SUCCESS', t(10, 1)),
    build('nova', 'el9', c.n2, 'SUCCESS', t(9)),
    build('nova', 'el9', c.n3, 'FAILED', t(8)),
    build('nova', 'el9', c.n4, 'FAILED', t(7)),
    build('nova', 'el9', c.n5, 'SUCCESS', t(6)),
    build('glance', 'el9', c.g1, 'FAILED', t(5)),
    // head-only on f40: the head fails, the bisection builds the range and names fBad
    build('nova', 'f40', c.fHead, 'FAILED', t(3), { firstBadCommit: c.fBad }),
    build('nova', 'f40', c.fGood, 'SUCCESS', t(3, 1), { bisect: true }),
    build('nova', 'f40', c.fBad, 'FAILED', t(3, 2), { bisect: true }),
    build('nova', 'el9', c.n6, 'RETRY', t(2)),
    build('nova', 'el9', c.n6, 'RETRY', t(1.5), { retries: 1, attempt: 1 }),
    build('glance', 'el9', c.g2, 'FAILED', t(1)),
    build('swift', 'el9', c.s1, 'SUCCESS', t(0.25)),
  ];
  for (const r of records) store.put(r);
  for (const project of ['nova', 'glance', 'swift', 'keystone']) store.putProjectState({ project, updatedAt: new Date(t(0.25)).toISOString(), ...(project === 'keystone' ? { cloneError: 'fatal: repository not found' } : { lastProcessed: records.filter((r) => r.project === project).at(-1)!.commit.sha }) });
  const queue: UpstreamQueue = {
    computedAt: new Date(t(0.2)).toISOString(),
    runId: '20261201T000000Z',
    queue: [{ project: 'nova', platform: 'el9', commit: c.n6, distgitSha: DISTGIT, why: 'retry (3 of 3)' }],
    projects: [
      { project: 'glance', queued: 0, idle: 'up to date' },
      { project: 'keystone', queued: 0, idle: 'clone failed', detail: 'fatal: repository <not> found' },
      { project: 'nova', queued: 1 },
      { project: 'swift', queued: 0, idle: 'up to date' },
    ],
  };
  return { records, queue, c };
}

/** The repo dirs and logs the records name, under the publish root `root` (what the links must reach). */
export function writePublishedFiles(root: string, records: UpstreamBuildRecord[]): void {
  for (const r of records) {
    if (r.repoPath) {
      mkdirSync(join(root, r.repoPath), { recursive: true });
      writeFileSync(join(root, r.repoPath, `${r.nvr}.noarch.rpm`), 'rpm');
    }
    if (r.log) {
      mkdirSync(join(root, r.log, '..'), { recursive: true });
      writeFileSync(join(root, r.log), `build log of ${r.id}\n`);
    }
  }
}
