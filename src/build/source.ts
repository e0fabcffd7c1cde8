import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import { resolveFrom, type RepoBuildConfig } from '../core/config.js';
import type { Git } from '../git/git.js';
import { readSpec, rewriteSpec, type SpecInfo } from '../rpm/spec.js';
import { snapshotRelease, type BuildSettings } from './settings.js';

/** Sources ready for `rpmbuild -bs`: the rewritten spec, the tarball beside it. */
export interface PreparedSource {
  commit: string;
  /** Spec with the snapshot Release, the new %changelog entry, and the tarball in `sourceDir`. */
  specFile: string;
  sourceDir: string;
  /** Name/Version/Release of the rewritten spec (Release without a platform's dist). */
  spec: SpecInfo;
  /** The spec as committed (what Koji builds from an SCM URL). */
  originalSpecFile: string;
}

export interface SeriesToBuild {
  id: string;
  repo: string;
  commit: string;
  messageIds: string[];
}

/** What `git archive` can write, by the Source0 file name. */
function archiveFormat(file: string): string | undefined {
  if (/\.(tar\.gz|tgz)$/.test(file)) return 'tar.gz';
  if (/\.tar$/.test(file)) return 'tar';
  if (/\.zip$/.test(file)) return 'zip';
  return undefined;
}

/** Patches and extra sources kept beside a spec in a packaging dir of the repo, into SOURCES. */
async function checkoutSpecDir(git: Git, commit: string, dir: string, sourceDir: string): Promise<void> {
  const tree = join(sourceDir, '.tree');
  mkdirSync(tree, { recursive: true });
  // A throwaway index, so that the clone's own index and work tree stay as apply left them.
  await git.run(['--work-tree', tree, 'checkout', commit, '--', dir], { env: { GIT_INDEX_FILE: join(sourceDir, '.index') } });
  for (const f of readdirSync(join(tree, dir))) {
    const path = join(tree, dir, f);
    if (statSync(path).isFile()) copyFileSync(path, join(sourceDir, f));
  }
  rmSync(tree, { recursive: true, force: true });
  rmSync(join(sourceDir, '.index'), { force: true });
}

async function specText(git: Git, commit: string, cfg: RepoBuildConfig, baseDir: string, sourceDir: string): Promise<string> {
  if (cfg.spec !== undefined) {
    const r = await git.run(['show', `${commit}:${cfg.spec}`], { allowFailure: true });
    if (r.code !== 0) throw new PatchlineError('ESPEC', `the spec ${cfg.spec} is not in commit ${commit.slice(0, 12)}`, { input: cfg.spec });
    if (dirname(cfg.spec) !== '.') await checkoutSpecDir(git, commit, dirname(cfg.spec), sourceDir);
    return r.stdout;
  }
  const file = resolveFrom(baseDir, cfg.specFile!);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PatchlineError('ESPEC', `cannot read the spec: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { input: file });
  }
  // Patches and extra sources of a packaging checkout sit beside its spec.
  for (const f of readdirSync(dirname(file))) {
    const path = join(dirname(file), f);
    if (f !== basename(file) && statSync(path).isFile()) copyFileSync(path, join(sourceDir, f));
  }
  return text;
}

async function describedVersion(git: Git, commit: string): Promise<string> {
  const r = await git.run(['describe', '--tags', '--abbrev=0', commit], { allowFailure: true });
  const tag = r.stdout.trim();
  if (r.code !== 0 || !tag) throw new PatchlineError('ESPEC', `build.version is git-describe but no tag reaches ${commit.slice(0, 12)}`, { input: commit });
  return tag.replace(/^v(?=\d)/, '').replace(/[^A-Za-z0-9._+~]/g, '.');
}

/**
 * From the commit apply produced: the spec with Version kept (or from git describe), the
 * snapshot Release and a %changelog entry naming the series and its Message-IDs, and the
 * `git archive` tarball named as Source0 expects. Any problem is ESPEC, before any build.
 */
export async function prepareSource(git: Git, series: SeriesToBuild, cfg: RepoBuildConfig, settings: BuildSettings, baseDir: string, workDir: string): Promise<PreparedSource> {
  const sourceDir = join(workDir, 'SOURCES');
  mkdirSync(sourceDir, { recursive: true });
  const originalSpecFile = join(workDir, 'original.spec');
  const original = await specText(git, series.commit, cfg, baseDir, sourceDir);
  writeFileSync(originalSpecFile, original);
  const before = await readSpec(originalSpecFile);
  if (cfg.package !== undefined && before.name !== cfg.package) {
    throw new PatchlineError('ESPEC', `the spec's Name is ${before.name}, the config says package ${cfg.package}`, { input: series.repo });
  }
  const version = settings.version === 'git-describe' ? await describedVersion(git, series.commit) : before.version;
  const date = new Date(Number((await git.output(['show', '-s', '--format=%ct', series.commit])).trim()) * 1000);
  const release = snapshotRelease(settings.release, { sha: series.commit, date });
  const specFile = join(workDir, `${before.name}.spec`);
  writeFileSync(
    specFile,
    rewriteSpec(original, {
      release,
      ...(settings.version === 'git-describe' ? { version } : {}),
      changelog: {
        date,
        packager: settings.packager,
        evr: `${version}-${release}`,
        lines: [`Snapshot of series ${series.id} (commit ${series.commit.slice(0, 12)})`, ...series.messageIds.map((m) => `Message-ID: <${m}>`)],
      },
    }),
  );
  const spec = await readSpec(specFile, { dist: '%{nil}' });
  if (!spec.source0) throw new PatchlineError('ESPEC', 'the spec has no Source0 to make with git archive', { input: specFile });
  const tarball = basename(new URL(spec.source0, 'file:///').pathname);
  const format = archiveFormat(tarball);
  if (!format) throw new PatchlineError('ESPEC', `Source0 ${tarball} cannot be made with git archive (name it .tar.gz, .tgz, .tar or .zip)`, { input: spec.source0 });
  await git.run(['archive', `--format=${format}`, `--prefix=${spec.name}-${spec.version}/`, '-o', join(sourceDir, tarball), series.commit]);
  return { commit: series.commit, specFile, sourceDir, spec, originalSpecFile };
}
