import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlatformConfig } from '../core/config.js';
import { asPatchlineError } from '../core/errors.js';
import { buildLocally } from '../build/local-builder.js';
import { startKojiBuilds, type KojiJob } from '../build/koji-builder.js';
import { commitDate, prepareSnapshot, type PreparedSource } from '../build/source.js';
import type { BuildRecord } from '../build/types.js';
import { readSecret } from '../core/secrets.js';
import type { Git } from '../git/git.js';
import { UPSTREAM_RELEASE, type UpstreamProject, type UpstreamSettings } from './settings.js';

/** One (upstream commit, dist-git commit) built on one platform, in `workDir`. */
export interface CommitBuild {
  ok: boolean;
  /** Built binary RPMs (absolute paths in workDir). */
  rpms: string[];
  /** The whole log (prepare errors, rpmbuild's output), at workDir/build.log. */
  logFile: string;
  log: string;
  /** name-version-release of the source package (Release without a platform's dist). */
  nvr?: string;
  /** The failing step when !ok: spec (snapshot source), rpmbuild. */
  step?: string;
  message?: string;
}

/** One build on a Koji platform: the mail pipeline's Koji builder (SRPM upload; a build Koji already has is taken), RPMs fetched into workDir. */
async function buildWithKoji(s: UpstreamSettings, project: UpstreamProject, platform: PlatformConfig, source: PreparedSource, workDir: string, log: (line: string) => void): Promise<{ ok: boolean; rpms: string[]; logs: string[]; message?: string }> {
  const record: BuildRecord = { seriesId: `${project.name}@${source.commit.slice(0, 12)}`, repo: project.name, platform: platform.name, builder: 'koji', state: 'failed', commit: source.commit, rpms: [], logs: [], durationSeconds: 0 };
  const job: KojiJob = { record, platform: { ...platform, target: platform.target! }, source, workDir: join(workDir, 'koji') };
  // the tarball is upstream's and the spec dist-git's: no one SCM URL holds both, so an SRPM is uploaded
  const settings = { ...s.build, submit: 'srpm' as const };
  const password = settings.kojiPassword ? readSecret(settings.kojiPassword, 'build.kojiPassword', s.baseDir) : undefined;
  const logger = { info: log, warn: log };
  const run = await startKojiBuilds([job], { settings, runDir: workDir, log: logger, signal: new AbortController().signal, password });
  await run();
  const abs = (f: string) => (/^[a-z]+:\/\//.test(f) ? f : join(workDir, f));
  return { ok: record.state === 'built', rpms: record.rpms.map(abs), logs: record.logs.map(abs).filter((f) => !f.includes('://')), ...(record.message ? { message: record.message } : {}) };
}

/**
 * The same builders as the mail pipeline: the snapshot source (prepareSnapshot: the dist-git's spec,
 * Release `0.<commit datetime UTC>.<shortsha>`, `git archive` of the upstream commit as Source0),
 * then buildLocally (the sandboxed rpmbuild) or the Koji builder, as the platform says.
 */
export async function buildCommit(
  s: UpstreamSettings,
  project: UpstreamProject,
  platform: PlatformConfig,
  git: { upstream: Git; distgit: Git },
  commits: { upstream: string; distgit: string },
  workDir: string,
  log: (line: string) => void,
): Promise<CommitBuild> {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const logFile = join(workDir, 'build.log');
  const sourceDir = join(workDir, 'source');
  let nvr: string | undefined;
  try {
    // the later of the two commits: a packaging change alone still gives a higher Release (as DLRN does)
    const [up, dg] = await Promise.all([commitDate(git.upstream, commits.upstream), commitDate(git.distgit, commits.distgit)]);
    const source = await prepareSnapshot(
      {
        specGit: git.distgit,
        specCommit: commits.distgit,
        cfg: { spec: project.spec },
        archiveGit: git.upstream,
        archiveCommit: commits.upstream,
        settings: { ...s.build, release: UPSTREAM_RELEASE, version: project.version },
        changelog: [`Upstream commit ${commits.upstream.slice(0, 12)}, packaging ${commits.distgit.slice(0, 12)}`],
        input: project.name,
        date: up > dg ? up : dg,
      },
      '/',
      sourceDir,
    );
    nvr = `${source.spec.name}-${source.spec.version}-${source.spec.release}`;
    const out = platform.builder === 'koji' ? await buildWithKoji(s, project, platform, source, workDir, log) : await buildLocally(source, platform, join(workDir, 'job'), log);
    const buildLog = out.logs.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')).join('\n') || (out.message ?? '');
    writeFileSync(logFile, buildLog);
    const step = platform.builder === 'koji' ? 'koji' : 'rpmbuild';
    if (!out.ok) return { ok: false, rpms: [], logFile, log: buildLog, nvr, step, message: out.message ?? `${step} failed` };
    return { ok: true, rpms: out.rpms, logFile, log: buildLog, nvr };
  } catch (err) {
    const e = asPatchlineError(err);
    if (e.code !== 'ESPEC' && e.code !== 'EGIT') throw e;
    const text = `${e.toLine()}\n`;
    writeFileSync(logFile, text);
    return { ok: false, rpms: [], logFile, log: text, ...(nvr ? { nvr } : {}), step: e.code === 'ESPEC' ? 'spec' : 'source', message: e.message };
  }
}
