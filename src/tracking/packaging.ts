/**
 * The packaging side of a scan: a clone of the packaging branch, one commit per upstream patch
 * (the patch file beside the spec, its PatchN and %patch lines), a last commit bumping Release
 * with a %changelog entry naming the upstream range; then rpmspec and `rpmbuild -bp` in the build
 * sandbox, which must apply every patch.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import { makeReadable } from '../sandbox/ownership.js';
import type { SandboxMode } from '../sandbox/sandbox.js';
import { rpmSandbox, rpmTopdir } from '../rpm/sandbox.js';
import { readSpec, rpmDefines, type SpecInfo } from '../rpm/spec.js';
import { runRpmTool } from '../rpm/tool.js';
import type { Git } from '../git/git.js';
import { addPatch, bumpRelease } from './spec-edit.js';
import { timed } from './timing.js';
import type { TrackingItem } from './types.js';
import type { UpstreamPatch } from './upstream.js';

export interface Identity {
  name: string;
  email: string;
}

/** `Name <a@b>` or `a@b`. */
export function parseIdentity(address: string): Identity {
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(address);
  if (m) return { name: m[1] || m[2]!.split('@')[0]!, email: m[2]! };
  return { name: address.split('@')[0]!.trim(), email: address.trim() };
}

/** The highest `NNNN-` prefix among the patch files beside the spec (0 when none). */
export function highestPatchFileNumber(specDir: string): number {
  if (!existsSync(specDir)) return 0;
  const numbers = readdirSync(specDir).flatMap((f) => (/^(\d{4})-.*\.patch$/.exec(f) ? [Number(f.slice(0, 4))] : []));
  return numbers.length ? Math.max(...numbers) : 0;
}

/** Clone the packaging branch into `dir`; returns its head. */
export async function clonePackaging(git: Git, item: TrackingItem, dir: string): Promise<string> {
  const r = await git.run(['clone', '--quiet', '--no-tags', '--single-branch', '--branch', item.branch, '--', item.packagingUrl, dir], { allowFailure: true });
  if (r.code !== 0) throw new PatchlineError('ETRACK', `cannot clone branch ${item.branch} of the packaging repo ${item.packagingUrl}: ${r.stderr.trim().split('\n').pop() ?? `git exit ${r.code}`}`, { input: item.packagingUrl });
  return (await git.output(['-C', dir, 'rev-parse', 'HEAD'])).trim();
}

export interface PackagingCommit {
  patch: UpstreamPatch;
  /** PatchN */
  number: number;
}

const shortSha = (sha: string): string => sha.slice(0, 12);

function commitMessage(item: TrackingItem, p: UpstreamPatch, n: number): string {
  const lines = [`Add upstream patch: ${p.commit.subject}`, '', `Upstream commit ${p.commit.sha}`, `of ${item.upstreamBranch} at ${item.upstreamUrl},`, `as ${p.name} (Patch${n}).`];
  if (p.brings) lines.push('', `It is the merge ${shortSha(p.commit.sha)} taken against its first parent; it brings:`, ...p.brings.map((b) => `  ${b}`));
  return lines.join('\n') + '\n';
}

/**
 * In the clone `work` (on the packaging branch): one commit per patch, then the Release bump.
 * Author and committer are the tracking identity, at `date`.
 */
export async function writePackagingCommits(work: Git, item: TrackingItem, patches: UpstreamPatch[], opts: { who: Identity; date: Date; version: string; range: { from: string; to: string; commits: number } }): Promise<PackagingCommit[]> {
  const specPath = join(work.dir, item.spec);
  if (!existsSync(specPath)) throw new PatchlineError('ESPEC', `the packaging repo has no ${item.spec} on ${item.branch}`, { input: item.spec });
  const specDir = dirname(specPath);
  const specRel = item.spec;
  const relDir = dirname(specRel) === '.' ? '' : `${dirname(specRel)}/`;
  const env = { GIT_AUTHOR_NAME: opts.who.name, GIT_AUTHOR_EMAIL: opts.who.email, GIT_COMMITTER_NAME: opts.who.name, GIT_COMMITTER_EMAIL: opts.who.email, GIT_AUTHOR_DATE: opts.date.toISOString(), GIT_COMMITTER_DATE: opts.date.toISOString() };
  let spec = readFileSync(specPath, 'utf8');
  const done: PackagingCommit[] = [];
  for (const p of patches) {
    copyFileSync(p.path, join(specDir, p.name));
    const added = addPatch(spec, p.name);
    spec = added.text;
    writeFileSync(specPath, spec);
    await work.run(['add', '--', specRel, `${relDir}${p.name}`]);
    await work.run(['commit', '--quiet', '--no-verify', '-F', '-'], { input: commitMessage(item, p, added.number), env });
    done.push({ patch: p, number: added.number });
  }
  const range = `${shortSha(opts.range.from)}..${shortSha(opts.range.to)}`;
  spec = bumpRelease(spec, {
    date: opts.date,
    packager: `${opts.who.name} <${opts.who.email}>`,
    version: opts.version,
    lines: [`Track upstream ${item.upstreamBranch} ${range} (${opts.range.commits} commits, ${patches.length} patches)`, ...patches.map((p) => `${p.name}: ${p.commit.subject}`)],
  });
  writeFileSync(specPath, spec);
  await work.run(['add', '--', specRel]);
  const message = [`Track upstream ${item.upstreamBranch} ${range}`, '', `${patches.length} patches from ${opts.range.commits} upstream commits of ${item.upstreamBranch}`, `at ${item.upstreamUrl}:`, `${opts.range.from}..${opts.range.to}`, '', 'Release bumped, %changelog entry added.', ''].join('\n');
  await work.run(['commit', '--quiet', '--no-verify', '--allow-empty', '-F', '-'], { input: message, env });
  return done;
}

const ARCHIVE_FORMATS: Array<{ ext: string; format: string; config?: string }> = [
  { ext: '.tar.gz', format: 'tar.gz' },
  { ext: '.tgz', format: 'tgz' },
  { ext: '.tar.xz', format: 'tar.xz', config: 'tar.tar.xz.command=xz -c' },
  { ext: '.tar.bz2', format: 'tar.bz2', config: 'tar.tar.bz2.command=bzip2 -c' },
  { ext: '.tar', format: 'tar' },
  { ext: '.zip', format: 'zip' },
];

/**
 * Source0 for `rpmbuild -bp`: the file beside the spec when the packaging repo holds it, else a
 * `git archive` of the upstream tag of the spec's Version (`v<version>`, `<version>`,
 * `<name>-<version>`) with the prefix `<name>-<version>/`, written beside the spec (not committed).
 */
export async function provideSource0(upstream: Git, specDir: string, info: SpecInfo): Promise<string | undefined> {
  if (!info.source0) return undefined;
  const file = basename(info.source0);
  const target = join(specDir, file);
  if (existsSync(target)) return target;
  const kind = ARCHIVE_FORMATS.find((f) => file.endsWith(f.ext));
  const tags = [`v${info.version}`, info.version, `${info.name}-${info.version}`];
  let tag: string | undefined;
  for (const t of tags) {
    if (await upstream.revParse(`refs/tags/${t}`)) {
      tag = t;
      break;
    }
  }
  if (!kind || !tag) {
    throw new PatchlineError('ETRACK', `Source0 ${file} is not in the packaging repo beside the spec, and ${kind ? `the upstream has none of the tags ${tags.join(', ')}` : 'its format is not one git archive makes'} to make it from`, { input: file });
  }
  await upstream.run([...(kind.config ? ['-c', kind.config] : []), 'archive', `--format=${kind.format}`, `--prefix=${info.name}-${info.version}/`, '-o', target, `refs/tags/${tag}`]);
  return target;
}

/**
 * Why `rpmbuild -bp` failed: the patch it was applying and patch's complaint. %patch prints
 * `Patch #N (file):` on stdout; %autopatch shows only its shell trace on stderr
 * (`+ /usr/bin/cat .../file.patch`). patch's own words are on stdout after that.
 */
export function prepFailure(stdout: string, stderr: string): { patch?: string; message: string } {
  const out = stdout.split('\n');
  const err = stderr.split('\n');
  let at = -1;
  let patch: string | undefined;
  out.forEach((l, i) => {
    const m = /^Patch #\d+ \(([^)]+)\):/.exec(l);
    if (m) ((at = i), (patch = m[1]));
  });
  if (!patch) for (const l of err) patch = /^\+ .*?([^\s/()'"]+\.patch)\b/.exec(l)?.[1] ?? patch;
  const tail = [...out.slice(at + 1), ...err];
  const said = tail.filter((l) => /FAILED|^patch: |^error: (?!Bad exit)|can't find file|Reversed|malformed|No such file|does not exist|The next patch would|corrupt/i.test(l)).map((l) => l.trim());
  const bad = err.find((l) => /^error: Bad exit status/.test(l));
  const message = [...new Set(said)].slice(0, 6).join('; ') || bad?.trim() || [...out, ...err].filter(Boolean).slice(-3).join('; ');
  return { ...(patch ? { patch } : {}), message: message.slice(0, 2000) };
}

/**
 * rpmspec -P (readSpec) and `rpmbuild -bp --nodeps` of the edited spec, in the build sandbox, with
 * the spec's dir as the sources. Returns undefined when every patch applied.
 */
export async function checkPrep(specFile: string, jobDir: string, mode: SandboxMode, upstream: Git): Promise<{ info: SpecInfo; failure?: { patch?: string; message: string } }> {
  const specDir = dirname(specFile);
  const info = await timed('rpm', () => readSpec(specFile, {}, mode));
  await provideSource0(upstream, specDir, info);
  const topdir = rpmTopdir(jobDir);
  mkdirSync(topdir, { recursive: true });
  makeReadable(specDir);
  const { box, defines } = rpmSandbox(mode, { work: topdir, inputs: [specDir] });
  const args = ['-bp', '--nodeps', ...rpmDefines({ ...defines, _topdir: box.path(topdir), _sourcedir: box.path(specDir) }), box.path(specFile)];
  const r = await timed('rpm', () => runRpmTool('rpmbuild', args, { sandbox: box }));
  if (r.code === 0) return { info };
  return { info, failure: prepFailure(r.stdout, r.stderr) };
}
