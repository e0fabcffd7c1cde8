/**
 * Text edits of a spec for tracked patches: a `PatchN:` line, its `%patch -P N -p1` line (unless
 * %autosetup/%autopatch apply every patch), Release bumped with a %changelog entry.
 */
import { PatchlineError } from '../core/errors.js';
import { rewriteSpec } from '../rpm/spec.js';

const PATCH_TAG = /^Patch(\d*)[ \t]*:/gim;
const SOURCE_TAG = /^Source\d*[ \t]*:/im;

/** The numbers of the spec's PatchN: lines (`Patch:` is 0). */
export function patchNumbers(text: string): number[] {
  return [...text.matchAll(PATCH_TAG)].map((m) => (m[1] ? Number(m[1]) : 0));
}

/** Whether the spec applies its patches by itself (%autosetup, %autopatch). */
export function appliesAutomatically(text: string): boolean {
  return /^[ \t]*%(autosetup|autopatch)\b/m.test(text) || /^[ \t]*%\{(autosetup|autopatch)\b/m.test(text);
}

/** The index just after the line holding `index` (the start of the next line). */
function endOfLine(text: string, index: number): number {
  const nl = text.indexOf('\n', index);
  return nl < 0 ? text.length : nl + 1;
}

function lastMatch(text: string, re: RegExp): RegExpExecArray | undefined {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  let last: RegExpExecArray | undefined;
  for (let m = g.exec(text); m; m = g.exec(text)) last = m;
  return last;
}

function insertAfterLine(text: string, at: number, line: string): string {
  const pos = endOfLine(text, at);
  const head = text.slice(0, pos);
  return `${head}${head.endsWith('\n') ? '' : '\n'}${line}\n${text.slice(pos)}`;
}

/** The spec's %prep section: [start, end) offsets, or undefined. */
function prepSection(text: string): { start: number; end: number } | undefined {
  const start = /^%prep\b.*$/m.exec(text);
  if (!start) return undefined;
  const from = endOfLine(text, start.index);
  const next = /^%(build|install|check|clean|files|changelog|package|description|pre|post|generate_buildrequires|conf)\b/m.exec(text.slice(from));
  return { start: from, end: next ? from + next.index : text.length };
}

/**
 * Add `PatchN: file` (N above the highest in use) after the last Patch line (else the last
 * Source line), and, unless the spec applies patches itself, `%patch -P N -p1` after the last
 * %patch line of %prep (else after %setup). Returns the spec and N.
 */
export function addPatch(text: string, file: string): { text: string; number: number } {
  const numbers = patchNumbers(text);
  const n = numbers.length ? Math.max(...numbers) + 1 : 0;
  const anchor = lastMatch(text, /^Patch\d*[ \t]*:.*$/im) ?? lastMatch(text, new RegExp(`${SOURCE_TAG.source}.*$`, 'im'));
  if (!anchor) throw new PatchlineError('ESPEC', 'the spec has no Source or Patch line to add a Patch line after', { input: file });
  let out = insertAfterLine(text, anchor.index, `Patch${n}: ${file}`);
  if (!appliesAutomatically(out)) {
    const prep = prepSection(out);
    if (!prep) throw new PatchlineError('ESPEC', 'the spec has no %prep section to apply the patch in', { input: file });
    const body = out.slice(prep.start, prep.end);
    const at = lastMatch(body, /^[ \t]*%\{?patch(\d+|\b).*$/m) ?? lastMatch(body, /^[ \t]*%\{?setup\b.*$/m);
    if (!at) throw new PatchlineError('ESPEC', 'the %prep section has no %setup or %patch line to apply the patch after', { input: file });
    // a %setup continued on the next lines (backslash): after its last line
    let pos = prep.start + at.index;
    while (/\\[ \t]*$/.test(out.slice(pos, endOfLine(out, pos)).replace(/\n$/, ''))) pos = endOfLine(out, pos);
    out = insertAfterLine(out, pos, `%patch -P ${n} -p1`);
  }
  return { text: out, number: n };
}

/**
 * Release bumped (its last number: `3%{?dist}` -> `4%{?dist}`) and a %changelog entry on top,
 * by rewriteSpec. A spec on %autorelease + %autochangelog (rpmautospec) is left as it is.
 */
export function bumpRelease(text: string, entry: { date: Date; packager: string; version: string; lines: string[] }): string {
  const m = /^Release[ \t]*:[ \t]*(.*?)[ \t]*$/im.exec(text);
  if (!m) throw new PatchlineError('ESPEC', 'the spec has no Release: line to bump');
  const value = m[1]!;
  if (/%\{?\??autorelease\b/.test(value)) {
    if (/^%changelog[ \t]*\n\s*%\{?autochangelog\}?/m.test(text)) return text;
    throw new PatchlineError('ESPEC', 'Release: %autorelease without %autochangelog: cannot add a %changelog entry', { input: value });
  }
  const dist = /%\{\??dist\}/.exec(value);
  const literal = dist ? value.slice(0, dist.index) : value;
  const digits = lastMatch(literal, /\d+/);
  if (!digits || literal.includes('%')) throw new PatchlineError('ESPEC', `Release: ${value}: only a plain release (a number, optionally followed by %{?dist}) can be bumped`, { input: value });
  const release = literal.slice(0, digits.index) + String(Number(digits[0]) + 1) + literal.slice(digits.index + digits[0].length);
  return rewriteSpec(text, { release, changelog: { date: entry.date, packager: entry.packager, evr: `${entry.version}-${release}`, lines: entry.lines } });
}
