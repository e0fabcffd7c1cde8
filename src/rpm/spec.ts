import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PatchlineError } from '../core/errors.js';
import type { SandboxMode } from '../sandbox/sandbox.js';
import { rpmSandbox } from './sandbox.js';
import { rpmErrorMessage, runRpmTool } from './tool.js';

export interface SpecInfo {
  name: string;
  version: string;
  release: string;
  /** Source0 (or Source) after macro expansion; undefined when the spec has none. */
  source0?: string;
}

/** `--define` arguments for rpm tools (each a separate argv entry: no shell). */
export function rpmDefines(defines: Record<string, string>): string[] {
  return Object.entries(defines).flatMap(([k, v]) => ['--define', `${k} ${v}`]);
}

/**
 * Name, Version, Release and Source0 of a spec, read by rpmspec itself (macros expanded), in the
 * sandbox: a %(...) in the spec runs while it is read. The sandbox reads a copy of the spec
 * alone, in a dir of its own that its user can enter (the spec's may be root's 0700).
 */
export async function readSpec(specFile: string, defines: Record<string, string> = {}, sandbox: SandboxMode = 'bwrap'): Promise<SpecInfo> {
  if (sandbox === 'none') return querySpec(specFile, specFile, defines, sandbox);
  const dir = mkdtempSync(join(tmpdir(), 'patchline-spec-'));
  try {
    chmodSync(dir, 0o755);
    const copy = join(dir, basename(specFile));
    copyFileSync(specFile, copy);
    chmodSync(copy, 0o644);
    return await querySpec(copy, specFile, defines, sandbox);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function querySpec(file: string, specFile: string, defines: Record<string, string>, sandbox: SandboxMode): Promise<SpecInfo> {
  const { box } = rpmSandbox(sandbox, { inputs: [dirname(file)] });
  const args = [...rpmDefines(defines), box.path(file)];
  const q = await runRpmTool('rpmspec', ['-q', '--srpm', '--qf', '%{name}\n%{version}\n%{release}\n', ...args], { sandbox: box });
  if (q.code !== 0) throw new PatchlineError('ESPEC', `rpmspec cannot read the spec: ${rpmErrorMessage(q)}`, { input: specFile });
  const [name = '', version = '', release = ''] = q.stdout.split('\n');
  if (!name || name === '(none)' || !version || version === '(none)') {
    throw new PatchlineError('ESPEC', 'the spec has no Name or no Version', { input: specFile });
  }
  const p = await runRpmTool('rpmspec', ['-P', ...args], { sandbox: box });
  if (p.code !== 0) throw new PatchlineError('ESPEC', `rpmspec cannot parse the spec: ${rpmErrorMessage(p)}`, { input: specFile });
  const source0 = /^Source0?\s*:\s*(\S+)\s*$/im.exec(p.stdout)?.[1];
  return { name, version, release, ...(source0 ? { source0 } : {}) };
}

/** Text from mail put into a spec: no line breaks (new sections), `%` doubled (no macro expansion). */
export function specSafe(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/%/g, '%%');
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The date form %changelog requires: `Sat Nov 21 2026` (UTC). */
export function changelogDate(d: Date): string {
  return `${WEEKDAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()}`;
}

export interface SpecRewrite {
  release: string;
  /** Replace Version too (taken from git describe). */
  version?: string;
  /** %changelog lines for the new entry (without the `* date packager - evr` header). */
  changelog: { date: Date; packager: string; evr: string; lines: string[] };
}

function replaceTag(text: string, tag: string, value: (old: string) => string): string {
  const re = new RegExp(`^(${tag}\\s*:\\s*)(.*)$`, 'im');
  if (!re.test(text)) throw new PatchlineError('ESPEC', `the spec has no ${tag}: line to rewrite`);
  return text.replace(re, (_m, head: string, old: string) => head + value(old.trim()));
}

/** The spec with Release (and Version) set and a new %changelog entry on top (newest first). */
export function rewriteSpec(text: string, r: SpecRewrite): string {
  let out = replaceTag(text, 'Release', (old) => specSafe(r.release) + (/%\{\??dist\}/.test(old) ? '%{?dist}' : ''));
  if (r.version !== undefined) out = replaceTag(out, 'Version', () => specSafe(r.version!));
  const entry = [`* ${changelogDate(r.changelog.date)} ${specSafe(r.changelog.packager)} - ${specSafe(r.changelog.evr)}`, ...r.changelog.lines.map((l) => `- ${specSafe(l)}`), ''].join('\n');
  const marker = /^%changelog[ \t]*$/m;
  if (marker.test(out)) return out.replace(marker, (m) => `${m}\n${entry}`);
  return `${out.replace(/\n*$/, '\n')}\n%changelog\n${entry}`;
}
