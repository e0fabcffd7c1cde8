import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { asPatchlineError, type PatchlineError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import type { BuildRecord } from '../build/types.js';
import { binaryRpms } from '../ledger/progress.js';
import { fetchRpms } from '../publish/collect.js';
import { commandCheck } from './commands.js';
import { conflictsCheck } from './conflicts.js';
import { installCheck, type InstalledRoot } from './install.js';
import { nvrOf, readRpmIds, type RpmId } from './nvr.js';
import { nvrOrderCheck } from './nvr-order.js';
import type { PublishedRpm, ServingRepo } from './published.js';
import { rpmlintCheck } from './rpmlint.js';
import type { TestSettings } from './settings.js';
import type { CheckResult, TestRecord } from './types.js';

export interface TestJob {
  /** The build record, paths absolute (as the ledger holds them). */
  build: BuildRecord;
  settings: TestSettings;
  /** `<run>/test/<series>/<platform>`: logs, and the throwaway roots while the checks run. */
  dir: string;
  /** What the platform's repo serves now. */
  serving: ServingRepo;
  /** Whether a published package's series is of the same repo/branch as this build. */
  sameLine: (seriesId: string) => boolean;
}

const noProgress: Progress = { tick() {}, setTotal() {}, stop() {} };

/** A check that threw could not run: `error`, remembered for the record. */
async function attempt(name: string, kind: CheckResult['kind'], errors: PatchlineError[], fn: () => Promise<CheckResult>): Promise<CheckResult> {
  const t0 = Date.now();
  try {
    return await fn();
  } catch (err) {
    const e = asPatchlineError(err, 'ETOOL');
    errors.push(e);
    return { name, kind, state: 'error', message: e.message, durationSeconds: (Date.now() - t0) / 1000 };
  }
}

/** The record's state and one-line message from its checks: a failed check wins over one that could not run. */
export function summarize(checks: readonly CheckResult[], errors: readonly PatchlineError[]): Pick<TestRecord, 'state' | 'message' | 'error'> {
  const failed = checks.filter((c) => c.state === 'failed');
  if (failed.length > 0) return { state: 'failed', message: failed.map((c) => `${c.name}: ${c.message ?? 'failed'}`).join('; ').slice(0, 1000) };
  const broken = checks.filter((c) => c.state === 'error');
  if (broken.length > 0 || errors.length > 0) {
    const e = errors[0];
    return { state: 'error', message: broken.map((c) => `${c.name} could not run: ${c.message ?? ''}`).join('; ').slice(0, 1000) || e?.message, ...(e ? { error: e.toJSON() } : {}) };
  }
  return { state: 'passed' };
}

/** Every check of one build (series x platform), in order; the throwaway roots are removed, the logs stay. */
export async function testBuild(job: TestJob): Promise<TestRecord> {
  const t0 = Date.now();
  const { build, settings, dir } = job;
  rmSync(dir, { recursive: true, force: true });
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const record: TestRecord = { seriesId: build.seriesId, repo: build.repo, ...(build.branch ? { branch: build.branch } : {}), platform: build.platform, state: 'passed', checks: [], durationSeconds: 0 };
  const errors: PatchlineError[] = [];
  const finish = (): TestRecord => {
    rmSync(join(dir, 'root'), { recursive: true, force: true });
    rmSync(join(dir, 'dnf-cache'), { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    Object.assign(record, summarize(record.checks, errors), { durationSeconds: (Date.now() - t0) / 1000 });
    return record;
  };
  let rpms: string[];
  let ids: RpmId[];
  try {
    // a Koji build names URLs: downloaded beside the logs
    const refs = binaryRpms(build.rpms).map((ref) => ({ ref, seriesId: build.seriesId }));
    rpms = (await fetchRpms(refs, dir, join(dir, 'rpms'), noProgress)).map((r) => r.path);
    ids = await readRpmIds(rpms);
  } catch (err) {
    errors.push(asPatchlineError(err, 'ETOOL'));
    return finish();
  }
  record.nvr = nvrOf(ids[0]!);
  const line = `${build.repo}/${build.branch ?? '?'}`;
  const published: PublishedRpm[] = job.serving.packages.filter((p) => job.sameLine(p.seriesId));
  const srpm = build.srpm && !/^https?:\/\//.test(build.srpm) && existsSync(build.srpm) ? [build.srpm] : [];
  const add = (c: CheckResult) => record.checks.push(c);
  add(await attempt('rpmlint', 'rpmlint', errors, () => rpmlintCheck([...rpms, ...srpm], { enabled: settings.rpmlint, config: settings.rpmlintConfig, rpmlintrc: settings.rpmlintrc, logFile: join(dir, 'rpmlint.log'), home })));
  add(await attempt('nvr-order', 'nvr-order', errors, () => nvrOrderCheck(ids, published, { seriesId: build.seriesId, line, logFile: join(dir, 'nvr-order.log') })));
  let installed: InstalledRoot | undefined;
  add(
    await attempt('install', 'install', errors, async () => {
      const r = await installCheck(rpms, { mode: settings.install, baseRepos: settings.baseRepos, published: job.serving.dir, dir, logFile: join(dir, 'install.log') });
      installed = r.installed;
      return r.check;
    }),
  );
  // every package the repo serves, of any branch: a user who adds the repo gets them all
  add(await attempt('conflicts', 'conflicts', errors, () => conflictsCheck(ids, job.serving.packages.filter((p) => p.seriesId !== build.seriesId), { dir, logFile: join(dir, 'conflicts.log') })));
  const install = record.checks.find((c) => c.name === 'install')!;
  const why = install.state === 'skipped' ? `not installed: ${install.message}` : `not installed (install ${install.state})`;
  for (const cmd of settings.commands) add(await attempt(`command:${cmd.name}`, 'command', errors, () => commandCheck(cmd, installed, { dir, why })));
  return finish();
}
