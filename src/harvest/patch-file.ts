/**
 * A `git am`-able single-mail mbox for one extracted patch, written the way git format-patch
 * writes one, so that git am records the author, date and subject git mailinfo gave on the original.
 */
import { gitDateSeconds } from './mail/date.js';
import { isPatchBreak } from './mail/mailinfo.js';
import { trailerBlock } from './mail/extract.js';
import type { Extraction } from './mail/types.js';

export interface PatchFileOptions {
  messageId: string;
  number?: number;
  total?: number;
  /** Review trailers collected from replies, appended to the trailer block unless already there. */
  extraTrailers?: string[];
}

const FROM_LINE = 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001';
/** Characters an RFC 2047 Q encoded-word may carry as they are in a phrase (RFC 2047 5.3). */
const Q_SAFE = /^[A-Za-z0-9!*+\-/]$/;
const MAX_WORD = 75;

/** RFC 2047 Q encoding in encoded-words of at most 75 chars, split only between characters, folded. */
export function encodeWords(text: string): string {
  const words: string[] = [];
  let current = '';
  for (const ch of text) {
    const enc = Q_SAFE.test(ch) ? ch : [...Buffer.from(ch, 'utf8')].map((b) => '=' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
    if ('=?UTF-8?q?'.length + current.length + enc.length + 2 > MAX_WORD) {
      words.push(current);
      current = '';
    }
    current += enc;
  }
  words.push(current);
  return words.map((w) => `=?UTF-8?q?${w}?=`).join('\n ');
}

function needsEncoding(text: string): boolean {
  return /[^\x20-\x7e]/.test(text) || text.includes('=?');
}

/** The author as a From: value: quoted when it holds RFC 822 specials, encoded when not ASCII. */
function fromValue(name: string, email: string): string {
  if (name === '' || name === email) return `<${email}>`;
  if (needsEncoding(name)) return `${encodeWords(name)} <${email}>`;
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name)) return `${name} <${email}>`;
  return `"${name.replace(/(["\\])/g, '\\$1')}" <${email}>`;
}

function subjectValue(subject: string, opts: PatchFileOptions): string {
  const counter = opts.number !== undefined && opts.total !== undefined && opts.total > 1 ? ` ${opts.number}/${opts.total}` : '';
  const prefix = `[PATCH${counter}] `;
  return needsEncoding(subject) ? `${prefix}${encodeWords(subject)}` : prefix + subject;
}

/** The message with the extra trailers appended to its trailer block (or a new one). */
export function withTrailers(body: string, extra: string[]): string {
  const text = body.replace(/\s+$/, '');
  const existing = new Set(trailerBlock(text).map((t) => t.toLowerCase().replace(/\s+/g, ' ')));
  const missing = [...new Set(extra)].filter((t) => !existing.has(t.toLowerCase().replace(/\s+/g, ' ')));
  if (missing.length === 0) return text === '' ? '' : text + '\n';
  const separator = text === '' ? '' : existing.size > 0 ? '\n' : '\n\n';
  return text + separator + missing.join('\n') + '\n';
}

function headerBlock(e: Extraction, opts: PatchFileOptions): string {
  const lines = [FROM_LINE, `From: ${fromValue(e.author.name, e.author.email)}`];
  // git am stops at a date it cannot read: without one the commit gets the time it is applied
  if (e.date !== undefined && gitDateSeconds(e.date) !== undefined) lines.push(`Date: ${e.date}`);
  lines.push(`Subject: ${subjectValue(e.subject, opts)}`, `Message-ID: <${opts.messageId.replace(/[<>\s]/g, '')}>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit');
  return lines.join('\n') + '\n\n';
}

function separatorFor(diff: string): string {
  const firstLine = diff.slice(0, diff.indexOf('\n') + 1 || diff.length);
  return firstLine.startsWith('---') && isPatchBreak(firstLine) ? '' : '---\n';
}

/** The patch file as text (for a diff that is valid UTF-8; see renderPatchBytes otherwise). */
export function renderPatchFile(e: Extraction, opts: PatchFileOptions): string {
  const body = withTrailers(e.body, opts.extraTrailers ?? []);
  return headerBlock(e, opts) + body + separatorFor(e.diff) + e.diff;
}

/** The patch file as bytes: exact even when the diff is not UTF-8 (`diffEncoding: 'latin1'`). */
export function renderPatchBytes(e: Extraction, opts: PatchFileOptions): Buffer {
  return renderPatchParts(e, opts).bytes;
}

/** A rendered patch file and the byte span of its commit message (what {@link addTrailers} rewrites). */
export interface RenderedPatch {
  bytes: Buffer;
  body: [start: number, end: number];
}

export function renderPatchParts(e: Extraction, opts: PatchFileOptions): RenderedPatch {
  const head = headerBlock(e, opts);
  const body = withTrailers(e.body, opts.extraTrailers ?? []);
  const start = Buffer.byteLength(head, 'utf8');
  const span: [number, number] = [start, start + Buffer.byteLength(body, 'utf8')];
  if (e.diffEncoding !== 'latin1') return { bytes: Buffer.from(head + body + separatorFor(e.diff) + e.diff, 'utf8'), body: span };
  return { bytes: Buffer.concat([Buffer.from(head + body + separatorFor(e.diff), 'utf8'), Buffer.from(e.diff, 'latin1')]), body: span };
}

/**
 * A rendered patch file with review trailers added, without the original mail: the same bytes
 * renderPatchBytes gives with `extraTrailers` (adding to a message is idempotent, see withTrailers).
 */
export function addTrailers(file: Buffer, body: readonly [number, number], extra: string[]): Buffer {
  const message = file.toString('utf8', body[0], body[1]);
  const updated = withTrailers(message, extra);
  if (updated === message) return file;
  return Buffer.concat([file.subarray(0, body[0]), Buffer.from(updated, 'utf8'), file.subarray(body[1])]);
}
