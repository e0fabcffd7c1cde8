/**
 * The full, `git mailinfo`-equivalent extraction of one message: author, date, subject,
 * message and patch, as text. Never throws: unusable input sets `unusable` with one line.
 */
import { parseAuthor } from './address.js';
import { decodeText, toByteString } from './charset.js';
import { readHeaders } from './headers.js';
import { mailinfo, type MailinfoOptions } from './mailinfo.js';
import type { Extraction, ParsedMessage } from './types.js';

export interface ParseOptions extends MailinfoOptions {
  subjectPattern?: RegExp;
}

const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*):[ \t]*\S/;
const PULL_REQUEST = /^The following changes since commit [0-9a-f]{7,}/m;

/** The trailer block: the last paragraph of the message when each of its lines is `Token: value` (or a continuation). */
export function trailerBlock(message: string): string[] {
  const lines = message.replace(/\s+$/, '').split('\n');
  const block: string[] = [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') break;
    if (/^[ \t]/.test(line) && i > 0) {
      block.unshift(line);
      continue;
    }
    if (!TRAILER_LINE.test(line)) return [];
    block.unshift(line);
  }
  return block.filter((l) => !/^[ \t]/.test(l));
}

function emptyExtraction(): Extraction {
  return { author: { name: '', email: '' }, subject: '', body: '', diff: '', trailers: [], pullRequest: false };
}

function extract(raw: Buffer, opts: ParseOptions, warnings: string[]): { extraction: Extraction; unusable?: string } {
  const info = mailinfo(toByteString(raw), opts);
  for (const e of info.errors) warnings.push(e);
  const extraction = emptyExtraction();
  const author = info.from === undefined ? undefined : parseAuthor(info.from);
  if (author) extraction.author = { name: decodeText(author.name).text, email: decodeText(author.email).text };
  if (info.date !== undefined) extraction.date = decodeText(info.date).text.trim();
  extraction.subject = decodeText(info.subject ?? '').text;
  const body = decodeText(info.message);
  if (body.latin1) warnings.push('message: not valid UTF-8 and no charset: read as latin1');
  extraction.body = body.text;
  const diff = decodeText(info.patch);
  if (diff.latin1) {
    warnings.push('patch: not valid UTF-8: kept byte for byte (diffEncoding latin1)');
    extraction.diffEncoding = 'latin1';
  }
  extraction.diff = diff.text;
  extraction.trailers = trailerBlock(extraction.body);
  extraction.pullRequest = PULL_REQUEST.test(extraction.body);
  if (info.unconvertible !== undefined) {
    extraction.undecodable = `text in charset ${JSON.stringify(info.unconvertible)}, which git cannot convert to UTF-8 (git mailinfo stops there, git am refuses the mail)`;
  }
  return { extraction, unusable: unusableReason(info, extraction) };
}

function unusableReason(info: ReturnType<typeof mailinfo>, e: Extraction): string | undefined {
  if (info.errors.includes('empty message')) return 'empty message';
  for (const [name, value] of [['From', info.from], ['Subject', info.subject], ['Date', info.date]] as const) {
    if (value?.includes('\0')) return `a NUL byte in the ${name} header`;
  }
  if (e.diff.includes('\0')) return 'a NUL byte in the patch (binary content must be a GIT binary patch)';
  if (e.diff !== '' && e.author.email === '') return 'the patch has no author: no From: with an e-mail address';
  return undefined;
}

/** Parse one raw message completely. Never throws. */
export function parseMessage(raw: Buffer, opts: ParseOptions = {}): ParsedMessage {
  const headers = readHeaders(raw, opts);
  try {
    const { extraction, unusable } = extract(raw, opts, headers.warnings);
    return { headers, extraction, ...(unusable === undefined ? {} : { unusable }) };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { headers, extraction: emptyExtraction(), unusable: `cannot parse: ${why}`.split('\n')[0]! };
  }
}
