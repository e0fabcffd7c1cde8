import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import { resolveFrom, type RepoBuildConfig } from '../core/config.js';
import { Git } from '../git/git.js';
import { readSpec, rewriteSpec, type SpecInfo } from '../rpm/spec.js';
import { makeReadable } from '../sandbox/ownership.js';
import { inside, type SandboxMode } from '../sandbox/sandbox.js';
import { snapshotRelease, type BuildSettings } from './settings.js';

/** build.sandbox (src/build/settings.ts gives it once it carries the field; bwrap by default). */
function sandboxOf(settings: BuildSettings): SandboxMode {
  return settings.sandbox;
}

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
  /** Where rpm tools run on this source (build.sandbox). */
  sandbox: SandboxMode;
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

/** The entries of `path` in `commit` (a dir given as `dir/`: its entries, not its subdirs'), with their git mode. */
async function treeEntries(git: Git, commit: string, path: string): Promise<Array<{ path: string; mode: string }>> {
  const out = await git.output(['ls-tree', '-z', '--full-tree', commit, '--', path]);
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      return { mode: line.slice(0, line.indexOf(' ')), path: line.slice(tab + 1) };
    });
}

/** The mail that last changed `path` up to `commit`: its Message-Id (or Link) trailer, and the commit. */
async function changedBy(git: Git, commit: string, path: string): Promise<{ said: string; input: string }> {
  const out = await git.output(['log', '-1', '--format=%h%x00%(trailers:key=Message-Id,valueonly,separator=%x20)%x00%(trailers:key=Link,valueonly,separator=%x20)', commit, '--', path]);
  const [sha = '', messageId = '', link = ''] = out.split('\0').map((f) => f.trim());
  const id = messageId.replace(/^<|>$/g, '');
  if (id) return { said: `added by the mail <${id}> (commit ${sha})`, input: id };
  if (link) return { said: `added by the mail ${link} (commit ${sha})`, input: link };
  return { said: `added by commit ${sha}, which names no mail`, input: path };
}

/** A link's target as a path of the repo, or undefined when it leaves the repo (absolute, or above its top). */
function targetInRepo(link: string, target: string): string | undefined {
  if (posix.isAbsolute(target)) return undefined;
  const resolved = posix.normalize(posix.join(posix.dirname(link), target));
  return resolved === '.' || resolved === '..' || resolved.startsWith('../') ? undefined : resolved;
}

async function linkError(git: Git, commit: string, link: string, target: string, why: string): Promise<PatchlineError> {
  const by = await changedBy(git, commit, link);
  return new PatchlineError('ESPEC', `${link} is a symbolic link to ${target}, ${why}: ${by.said}; not copied, nothing built`, { input: by.input });
}

const MAX_LINKS = 8;

/**
 * The regular file a link of the commit stands for, checked out in `tree`: every link on the
 * way must stay in the repo (a link to /etc/passwd or ../../x is an error naming the mail that
 * added it); a link to a dir is skipped (undefined), as dirs beside a spec are.
 */
async function resolveLink(git: Git, commit: string, tree: string, index: Record<string, string>, link: string): Promise<string | undefined> {
  const chain: string[] = [];
  let path = link;
  while (chain.length < MAX_LINKS) {
    chain.push(readlinkSync(join(tree, path)));
    const next = targetInRepo(path, chain[chain.length - 1]!);
    if (next === undefined) throw await linkError(git, commit, link, chain.join(' -> '), 'outside the repository');
    const r = await git.run(['--work-tree', tree, 'checkout', commit, '--', next], { env: index, allowFailure: true });
    if (r.code !== 0) throw await linkError(git, commit, link, chain.join(' -> '), 'which is not a file of the commit');
    const st = lstatSync(join(tree, next));
    if (st.isFile()) return join(tree, next);
    if (!st.isSymbolicLink()) return undefined;
    path = next;
  }
  throw await linkError(git, commit, link, `${chain.join(' -> ')} -> ...`, `a chain of more than ${MAX_LINKS} links`);
}

/**
 * Patches and extra sources kept beside a spec in a packaging dir of the repo, into SOURCES.
 * Read from git without following any link out of the repo: the files a mail adds must not
 * carry a host file (say /etc/shadow) into SOURCES, the SRPM and the published RPM.
 */
async function checkoutSpecDir(git: Git, commit: string, dir: string, sourceDir: string): Promise<void> {
  // beside SOURCES, not in it: no file of the mail's can land on them
  const tree = join(dirname(sourceDir), '.checkout');
  mkdirSync(tree, { recursive: true });
  // A throwaway index, so that the clone's own index and work tree stay as apply left them.
  const index = { GIT_INDEX_FILE: join(dirname(sourceDir), '.checkout-index') };
  try {
    await git.run(['--work-tree', tree, 'checkout', commit, '--', dir], { env: index });
    for (const { path, mode } of await treeEntries(git, commit, `${dir}/`)) {
      let file: string | undefined;
      if (mode === '120000') file = await resolveLink(git, commit, tree, index, path);
      else if (mode === '100644' || mode === '100755') file = join(tree, path);
      if (file) copyFileSync(file, join(sourceDir, posix.basename(path)));
    }
  } finally {
    rmSync(tree, { recursive: true, force: true });
    rmSync(index.GIT_INDEX_FILE, { force: true });
  }
}

/**
 * Patches and extra sources beside a spec of a packaging checkout on disk: a link is followed
 * only when it stays in that checkout (its git work tree, else the spec's dir).
 */
async function copyBesideSpecFile(file: string, sourceDir: string): Promise<void> {
  const dir = dirname(file);
  const top = await new Git(dir).run(['rev-parse', '--show-toplevel'], { allowFailure: true });
  const root = realpathSync(top.code === 0 && top.stdout.trim() ? top.stdout.trim() : dir);
  for (const f of readdirSync(dir)) {
    const path = join(dir, f);
    if (f === basename(file)) continue;
    let real = path;
    if (lstatSync(path).isSymbolicLink()) {
      const target = readlinkSync(path);
      real = existsSync(path) ? realpathSync(path) : '';
      if (!real || inside(root, real) === undefined) {
        throw new PatchlineError('ESPEC', `${path} is a symbolic link to ${target}, ${real ? `outside the packaging checkout ${root}` : 'which does not exist'}; not copied, nothing built`, { input: path });
      }
    }
    if (statSync(real).isFile()) copyFileSync(real, join(sourceDir, f));
  }
}

async function specText(git: Git, commit: string, cfg: RepoBuildConfig, baseDir: string, sourceDir: string): Promise<string> {
  if (cfg.spec !== undefined) {
    const r = await git.run(['show', `${commit}:${cfg.spec}`], { allowFailure: true });
    if (r.code !== 0) throw new PatchlineError('ESPEC', `the spec ${cfg.spec} is not in commit ${commit.slice(0, 12)}`, { input: cfg.spec });
    if ((await treeEntries(git, commit, cfg.spec)).some((e) => e.mode === '120000')) {
      const by = await changedBy(git, commit, cfg.spec);
      throw new PatchlineError('ESPEC', `the spec ${cfg.spec} is a symbolic link: ${by.said}; nothing built`, { input: by.input });
    }
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
  await copyBesideSpecFile(file, sourceDir);
  return text;
}

async function describedVersion(git: Git, commit: string): Promise<string> {
  const r = await git.run(['describe', '--tags', '--abbrev=0', commit], { allowFailure: true });
  const tag = r.stdout.trim();
  if (r.code !== 0 || !tag) throw new PatchlineError('ESPEC', `build.version is git-describe but no tag reaches ${commit.slice(0, 12)}`, { input: commit });
  return tag.replace(/^v(?=\d)/, '').replace(/[^A-Za-z0-9._+~]/g, '.');
}

/** The committer date of a commit. */
export async function commitDate(git: Git, commit: string): Promise<Date> {
  return new Date(Number((await git.output(['show', '-s', '--format=%ct', commit])).trim()) * 1000);
}

/** A snapshot to prepare: the spec from one commit, the tarball from (maybe) another repo's commit. */
export interface SnapshotInput {
  /** Where the spec (and the files beside it) are read: the repo and commit of the packaging. */
  specGit: Git;
  specCommit: string;
  cfg: RepoBuildConfig;
  /** What `git archive` makes the tarball of (Version from `git describe` and the Release's date too). */
  archiveGit: Git;
  archiveCommit: string;
  /** Release pattern (snapshotRelease), Version source, packager, sandbox. */
  settings: Pick<BuildSettings, 'release' | 'version' | 'packager' | 'sandbox'>;
  changelog: string[];
  /** Named in errors (the repo, the project). */
  input: string;
  /** The Release's date (default: the archived commit's committer date). */
  date?: Date;
}

/**
 * The spec with Version kept (or from git describe), the snapshot Release and a %changelog
 * entry, and the `git archive` tarball named as Source0 expects. Any problem is ESPEC, before
 * any build. Shared by the mail pipeline (spec and sources in one repo) and upstream (dist-git + upstream).
 */
export async function prepareSnapshot(input: SnapshotInput, baseDir: string, workDir: string): Promise<PreparedSource> {
  const { settings, cfg } = input;
  const sandbox = settings.sandbox;
  const sourceDir = join(workDir, 'SOURCES');
  mkdirSync(sourceDir, { recursive: true });
  const originalSpecFile = join(workDir, 'original.spec');
  const original = await specText(input.specGit, input.specCommit, cfg, baseDir, sourceDir);
  writeFileSync(originalSpecFile, original);
  makeReadable(workDir);
  const before = await readSpec(originalSpecFile, {}, sandbox);
  if (cfg.package !== undefined && before.name !== cfg.package) {
    throw new PatchlineError('ESPEC', `the spec's Name is ${before.name}, the config says package ${cfg.package}`, { input: input.input });
  }
  const git = input.archiveGit;
  const commit = input.archiveCommit;
  const version = settings.version === 'git-describe' ? await describedVersion(git, commit) : before.version;
  const date = input.date ?? (await commitDate(git, commit));
  const release = snapshotRelease(settings.release, { sha: commit, date });
  const specFile = join(workDir, `${before.name}.spec`);
  writeFileSync(
    specFile,
    rewriteSpec(original, {
      release,
      ...(settings.version === 'git-describe' ? { version } : {}),
      changelog: { date, packager: settings.packager, evr: `${version}-${release}`, lines: input.changelog },
    }),
  );
  makeReadable(workDir);
  const spec = await readSpec(specFile, { dist: '%{nil}' }, sandbox);
  if (!spec.source0) throw new PatchlineError('ESPEC', 'the spec has no Source0 to make with git archive', { input: specFile });
  const tarball = basename(new URL(spec.source0, 'file:///').pathname);
  const format = archiveFormat(tarball);
  if (!format) throw new PatchlineError('ESPEC', `Source0 ${tarball} cannot be made with git archive (name it .tar.gz, .tgz, .tar or .zip)`, { input: spec.source0 });
  await git.run(['archive', `--format=${format}`, `--prefix=${spec.name}-${spec.version}/`, '-o', join(sourceDir, tarball), commit]);
  makeReadable(workDir);
  return { commit, specFile, sourceDir, spec, originalSpecFile, sandbox };
}

/** The snapshot of the commit apply produced: spec and sources from that commit, the series named in %changelog. */
export function prepareSource(git: Git, series: SeriesToBuild, cfg: RepoBuildConfig, settings: BuildSettings, baseDir: string, workDir: string): Promise<PreparedSource> {
  const changelog = [`Snapshot of series ${series.id} (commit ${series.commit.slice(0, 12)})`, ...series.messageIds.map((m) => `Message-ID: <${m}>`)];
  return prepareSnapshot({ specGit: git, specCommit: series.commit, cfg, archiveGit: git, archiveCommit: series.commit, settings: { ...settings, sandbox: sandboxOf(settings) }, changelog, input: series.repo }, baseDir, workDir);
}
