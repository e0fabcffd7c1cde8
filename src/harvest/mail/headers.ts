/**
 * Cheap facts from the header block alone: no MIME parse, the body is never touched. This is
 * what lets the harvest decide from headers which messages need a full parse.
 */
import { parseAuthor } from './address.js';
import { decodeText, utf8ByteString } from './charset.js';
import { parseGitDate } from './date.js';
import { decodeEncodedWords } from './rfc2047.js';
import { parseSubjectTag } from './subject.js';
import type { MessageHeaders, Person } from './types.js';

const WANTED = new Set(['message-id', 'subject', 'from', 'date', 'in-reply-to', 'references']);
/** A header block larger than this is cut (a mail that is all headers must not stall the harvest). */
const MAX_HEADER_BYTES = 1 << 20;

/** Offset of the empty line that ends the header block (or the end of the buffer). */
export function headerBlockEnd(raw: Buffer): number {
  const limit = Math.min(raw.length, MAX_HEADER_BYTES);
  if (raw[0] === 0x0a) return 0;
  if (raw[0] === 0x0d && raw[1] === 0x0a) return 0;
  let at = 0;
  for (;;) {
    const nl = raw.indexOf(0x0a, at);
    if (nl < 0 || nl >= limit) return limit;
    const next = nl + 1;
    if (raw[next] === 0x0a) return next;
    if (raw[next] === 0x0d && raw[next + 1] === 0x0a) return next;
    at = next;
  }
}

/**
 * Header lines unfolded (continuations joined with one space, as git does), field names
 * lowercased. With `wanted`, other fields are skipped before their values are built: list mail
 * carries dozens of Received/DKIM/List-* lines nobody here reads.
 */
export function unfoldHeaders(block: string, wanted?: ReadonlySet<string>): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  const lines = block.split('\n');
  let start = 0;
  if (lines[0]?.startsWith('From ')) start = 1;
  /** Whether a field has begun (a skipped one too), and whether the one begun is kept (its continuations go with it). */
  let begun = false;
  let open = false;
  for (let i = start; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0) continue;
    if ((line[0] === ' ' || line[0] === '\t') && begun) {
      if (!open) continue;
      const last = fields[fields.length - 1]!;
      last[1] = (last[1] + ' ' + line.slice(1)).replace(/[ \t]+$/, '');
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    begun = true;
    open = wanted === undefined || wanted.has(name);
    if (open) fields.push([name, line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** A header value (byte string) as text: raw 8-bit read as UTF-8 (else latin1), then RFC 2047. */
function headerText(name: string, value: string, warnings: string[]): string {
  let bytes = value;
  if (/[^\x00-\x7f]/.test(value)) {
    const { text, latin1 } = decodeText(value);
    warnings.push(latin1 ? `${name}: raw 8-bit header, not UTF-8: read as latin1` : `${name}: raw 8-bit header read as UTF-8`);
    bytes = utf8ByteString(text);
  }
  if (value.includes('\0')) warnings.push(`${name}: NUL byte in header`);
  const decoded = decodeEncodedWords(bytes);
  if (decoded === undefined) warnings.push(`${name}: malformed RFC 2047 encoded-word, kept as sent`);
  return decodeText(decoded ?? bytes).text;
}

/** `<a@b>` -> `a@b`; without brackets the first word. */
export function messageIdOf(value: string): string | undefined {
  const m = /<([^<>\s]+)>/.exec(value) ?? /([^<>\s]+)/.exec(value);
  return m ? m[1] : undefined;
}

const BRACKETED_ID = /<([^<>\s]+)>/g;

function referencesOf(value: string): string[] {
  const ids: string[] = [];
  BRACKETED_ID.lastIndex = 0;
  for (let m = BRACKETED_ID.exec(value); m !== null; m = BRACKETED_ID.exec(value)) ids.push(m[1]!);
  return ids.length > 0 ? ids : value.split(/\s+/).filter((w) => w !== '');
}

/** A Date header as git am reads it (see date.ts); undefined when git cannot, or it falls outside 1970-2099. */
export function parseDate(value: string): Date | undefined {
  return parseGitDate(value);
}

function personOf(value: string): Person | undefined {
  const author = parseAuthor(utf8ByteString(value));
  if (!author || author.email === '') return undefined;
  return { name: decodeText(author.name).text, email: decodeText(author.email).text };
}

/** Parse only the header block of a raw message. Never throws. */
export function readHeaders(raw: Buffer, opts: { subjectPattern?: RegExp } = {}): MessageHeaders {
  try {
    return headersOf(raw, opts);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { subject: '', references: [], isReply: false, isPullRequest: false, looksLikePatch: false, warnings: [`headers unreadable: ${why}`] };
  }
}

function headersOf(raw: Buffer, opts: { subjectPattern?: RegExp }): MessageHeaders {
  const warnings: string[] = [];
  const fields = unfoldHeaders(raw.subarray(0, headerBlockEnd(raw)).toString('latin1'), WANTED);
  const seen = new Map<string, string>();
  for (const [name, value] of fields) {
    if (seen.has(name)) {
      if (name !== 'references') warnings.push(`${name}: header appears more than once, the first one is used`);
      continue;
    }
    seen.set(name, headerText(name, value, warnings));
  }
  const subject = seen.get('subject') ?? '';
  const facts = parseSubjectTag(subject, opts.subjectPattern);
  const headers: MessageHeaders = { subject, references: [], warnings, ...facts };
  const messageId = seen.has('message-id') ? messageIdOf(seen.get('message-id')!) : undefined;
  if (messageId !== undefined) headers.messageId = messageId;
  const from = seen.has('from') ? personOf(seen.get('from')!) : undefined;
  if (from) headers.from = from;
  const dateHeader = seen.get('date');
  if (dateHeader !== undefined) {
    headers.dateHeader = dateHeader;
    const date = parseDate(dateHeader);
    if (date) headers.date = date;
    else {
      headers.dateUnreadable = dateHeader.slice(0, 80);
      warnings.push(`date: "${headers.dateUnreadable}" is not a date git can read: filed under the day it was harvested`);
    }
  }
  const inReplyTo = seen.has('in-reply-to') ? messageIdOf(seen.get('in-reply-to')!) : undefined;
  if (inReplyTo !== undefined) headers.inReplyTo = inReplyTo;
  if (seen.has('references')) headers.references = referencesOf(seen.get('references')!);
  if (!seen.has('from')) warnings.push('from: missing');
  if (messageId === undefined) warnings.push('message-id: missing');
  return headers;
}
