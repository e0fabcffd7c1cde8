/**
 * Result files of one made-up run, valid against resources/schemas/: three series on two repos,
 * one applied and built everywhere, one with an apply conflict, one whose build failed on a
 * platform; plus a quarantined and an unroutable mail. Tests change what they need.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApplyResult } from '../../src/apply/types.js';
import type { BuildResult } from '../../src/build/types.js';
import type { HarvestResult, MessageResult, SeriesResult } from '../../src/harvest/types.js';
import type { PublishResult } from '../../src/publish/types.js';
import { writeResult } from '../../src/core/results.js';

export interface RunFixture {
  harvest?: HarvestResult;
  apply?: ApplyResult;
  build?: BuildResult;
  publish?: PublishResult;
}

/** `20261121T020304Z` for a day offset from 2026-11-21. */
export function fixtureRunId(day = 0): string {
  const d = new Date(Date.UTC(2026, 10, 21 + day, 2, 3, 4));
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function series(id: string, repo: string, branch: string, subject: string, total: number): SeriesResult {
  return {
    id,
    repo,
    branch,
    version: 1,
    total,
    status: 'ready',
    subject,
    submitter: { name: 'Ada Author', email: 'ada@example.org' },
    coverMessageId: total > 1 ? `cover-${id}@example.org` : undefined,
    patches: Array.from({ length: total }, (_, i) => ({
      number: i + 1,
      messageId: `${id}-${i + 1}@example.org`,
      file: `${id}/000${i + 1}.patch`,
      author: { name: 'Ada Author', email: 'ada@example.org' },
      subject: `${subject} part ${i + 1}`,
      trailers: ['Reviewed-by: Rev Iewer <rev@example.org>'],
    })),
  };
}

function patchMessages(s: SeriesResult): MessageResult[] {
  return s.patches.map((p) => ({ messageId: p.messageId, bucket: 'patch' as const, seriesId: s.id, source: 'list:1', subject: p.subject, route: { repo: s.repo, branch: s.branch } }));
}

export function harvestFixture(runId = fixtureRunId()): HarvestResult {
  const all = [series('qemu-master-fix-io', 'qemu', 'master', 'Fix the I/O path', 2), series('qemu-stable-2.1-backport', 'qemu', 'stable-2.1', 'Backport the fix', 1), series('libvirt-master-new-api', 'libvirt', 'master', 'New API', 1)];
  for (const s of all) if (s.coverMessageId === undefined) delete s.coverMessageId;
  const messages: MessageResult[] = [
    ...all.flatMap(patchMessages),
    { messageId: 'cover-qemu-master-fix-io@example.org', bucket: 'cover', seriesId: 'qemu-master-fix-io', source: 'list:0', subject: '[master PATCH 0/2 qemu] Fix the I/O path' },
    { messageId: 'q1@example.org', bucket: 'quarantined', reason: 'branch "next" is not configured for qemu (known: master, stable-2.1)', source: 'list:7', subject: '[next PATCH qemu] <script>alert(1)</script>', from: 'Mallory <m@example.org>' },
    { messageId: 'u1@example.org', bucket: 'unroutable', reason: 'no [branch PATCH repo] tag in the subject', source: 'list:8', subject: '[PATCH] fix typo' },
  ];
  const counts = { seen: messages.length, patch: 4, cover: 1, comment: 0, 'pull-request': 0, other: 0, duplicate: 0, unroutable: 1, quarantined: 1 };
  const started = runIdDate(runId).toISOString();
  return { runId, startedAt: started, finishedAt: started, sources: [{ name: 'list', type: 'mbox', seen: messages.length }], messages, series: all, counts };
}

export function runIdDate(runId: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(runId)!;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export function applyFixture(runId = fixtureRunId()): ApplyResult {
  const at = runIdDate(runId).toISOString();
  return {
    runId,
    startedAt: at,
    finishedAt: at,
    dryRun: false,
    branches: [
      { repo: 'qemu', branch: 'master', target: 'master', baseCommit: '1'.repeat(40), head: 'a'.repeat(40), pushed: true, retried: false },
      { repo: 'qemu', branch: 'stable-2.1', target: 'stable-2.1', baseCommit: '2'.repeat(40), head: '2'.repeat(40), pushed: false, retried: false },
      { repo: 'libvirt', branch: 'master', target: 'master', baseCommit: '3'.repeat(40), head: 'b'.repeat(40), pushed: true, retried: false },
    ],
    series: [
      {
        id: 'qemu-master-fix-io', repo: 'qemu', branch: 'master', status: 'applied', baseCommit: '1'.repeat(40), alreadyApplied: [],
        commits: [{ sha: 'c'.repeat(40), subject: 'Fix the I/O path part 1', messageId: 'qemu-master-fix-io-1@example.org', number: 1 }, { sha: 'a'.repeat(40), subject: 'Fix the I/O path part 2', messageId: 'qemu-master-fix-io-2@example.org', number: 2 }],
      },
      {
        id: 'qemu-stable-2.1-backport', repo: 'qemu', branch: 'stable-2.1', status: 'failed', baseCommit: '2'.repeat(40), alreadyApplied: [], commits: [],
        failure: { kind: 'conflict', patch: { number: 1, subject: 'Backport the fix part 1', messageId: 'qemu-stable-2.1-backport-1@example.org', file: 'qemu-stable-2.1-backport/0001.patch' }, files: ['block/io.c', 'include/block.h'], message: 'error: patch failed: block/io.c:42\nerror: block/io.c: patch does not apply' },
      },
      {
        id: 'libvirt-master-new-api', repo: 'libvirt', branch: 'master', status: 'applied', baseCommit: '3'.repeat(40), alreadyApplied: [],
        commits: [{ sha: 'b'.repeat(40), subject: 'New API part 1', messageId: 'libvirt-master-new-api-1@example.org', number: 1 }],
      },
    ],
  };
}

/**
 * Builds of the fixture, the RPMs given per platform for the first series (by default the ones
 * publishFixture lists); the failed build's log is logs/libvirt-f40-build.log.
 */
export function buildFixture(rpms: { el9?: string[]; f40?: string[] } = { el9: ['rpms/el9/qemu-9.0-0.1.x86_64.rpm'], f40: ['https://koji.example.org/kojifiles/work/tasks/1001/qemu-9.0-0.1.x86_64.rpm'] }, runId = fixtureRunId()): BuildResult {
  const at = runIdDate(runId).toISOString();
  const qemu = { seriesId: 'qemu-master-fix-io', repo: 'qemu', branch: 'master', commit: 'a'.repeat(40), durationSeconds: 60, logs: [] };
  const libvirt = { seriesId: 'libvirt-master-new-api', repo: 'libvirt', branch: 'master', commit: 'b'.repeat(40), durationSeconds: 30 };
  return {
    runId,
    startedAt: at,
    finishedAt: at,
    builds: [
      { ...qemu, platform: 'el9', builder: 'local', state: 'built', nvr: 'qemu-9.0-0.1.el9', rpms: rpms.el9 ?? [] },
      { ...qemu, platform: 'f40', builder: 'koji', state: 'built', taskId: 1001, url: 'https://koji.example.org/koji/taskinfo?taskID=1001', nvr: 'qemu-9.0-0.1.fc40', rpms: rpms.f40 ?? [] },
      { ...libvirt, platform: 'el9', builder: 'local', state: 'built', nvr: 'libvirt-10.0-0.1.el9', rpms: [], logs: [] },
      { ...libvirt, platform: 'f40', builder: 'koji', state: 'failed', taskId: 1002, url: 'https://koji.example.org/koji/taskinfo?taskID=1002', rpms: [], logs: ['logs/libvirt-f40-build.log'], message: 'rpmbuild failed in %build', error: { code: 'EBUILD', message: 'task 1002 failed: BuildError: error building package (arch x86_64)' } },
    ],
  };
}

export function publishFixture(runId = fixtureRunId(), root = '/srv/repos'): PublishResult {
  const repo = (platform: string) => ({
    platform,
    status: 'published' as const,
    path: `${root}/${platform}`,
    url: `https://repos.example.org/${platform}/`,
    repoFileUrl: `https://repos.example.org/${platform}/patchline-${platform}.repo`,
    generation: `${platform}.${runId}`,
    packages: [{ name: 'qemu', version: '9.0', release: '0.1', arch: 'x86_64', file: 'qemu-9.0-0.1.x86_64.rpm', url: `https://repos.example.org/${platform}/Packages/qemu-9.0-0.1.x86_64.rpm`, seriesId: 'qemu-master-fix-io', publishedAt: runIdDate(runId).toISOString() }],
    added: ['qemu-9.0-0.1.x86_64.rpm'],
  });
  return { runId, destination: root, repos: [repo('el9'), repo('f40')] };
}

/** The lines of a failed build.log: the report mails the last 50. */
export const BUILD_LOG = Array.from({ length: 80 }, (_, i) => `build line ${i + 1}`).join('\n') + '\nerror: Bad exit status from /var/tmp/rpm-tmp.X (%build)\n';

/** Write the given result files (validated) and the failed build's log into a run dir. */
export function writeRunFixture(runDir: string, files: RunFixture): void {
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  writeFileSync(join(runDir, 'logs', 'libvirt-f40-build.log'), BUILD_LOG);
  if (files.harvest) writeResult(runDir, 'harvest', files.harvest);
  if (files.apply) writeResult(runDir, 'apply', files.apply);
  if (files.build) writeResult(runDir, 'build', files.build);
  if (files.publish) writeResult(runDir, 'publish', files.publish);
}

/** The whole fixture run. */
export function fullRun(runId = fixtureRunId()): Required<RunFixture> {
  return { harvest: harvestFixture(runId), apply: applyFixture(runId), build: buildFixture(undefined, runId), publish: publishFixture(runId) };
}
