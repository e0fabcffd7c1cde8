/**
 * Split an mbox into messages as `git mailsplit` (git am's first step) does: each message is the
 * bytes mailsplit writes for it, less its `From ` separator line (the envelope, not the mail).
 * mboxo by default (no `>From ` unquoting; the blank line before the next `From ` stays with the
 * message); mboxrd (`git mailsplit --mboxrd`) only when asked. CRLF line ends become LF, as
 * mailsplit does without --keep-cr.
 */

export type MboxFormat = 'mboxo' | 'mboxrd';

export interface MboxOptions {
  format?: MboxFormat;
}

export interface MboxSplit {
  messages: Buffer[];
  /** Bytes of text before the first `From ` line (after leading white space): not a message. */
  skipped: number;
}

const LF = 0x0a;
const CR = 0x0d;
const FROM_AT_LINE_START = Buffer.from('\nFrom ', 'latin1');

/** C isspace: what mailsplit skips before the first line. */
function isSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** C strtol in base 10 (leading white space, a sign, digits; 0 when none). */
function strtol(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(s);
  return m ? parseInt(m[1]!, 10) : 0;
}

/**
 * git's is_from_line(): `From `, then a `hh:mm`-ish time whose year (after the last colon's
 * two digits) is past 90. `line` is the whole line with its LF (or CRLF), as mailsplit reads it.
 */
export function isFromLine(line: string): boolean {
  if (line.length < 20 || !line.startsWith('From ')) return false;
  let colon = line.length - 2;
  for (;;) {
    if (colon < 5) return false;
    colon -= 1;
    if (line[colon] === ':') break;
  }
  if (!isDigit(line, colon - 4) || !isDigit(line, colon - 2) || !isDigit(line, colon - 1) || !isDigit(line, colon + 1) || !isDigit(line, colon + 2)) return false;
  return strtol(line.slice(colon + 3)) > 90;
}

/** Offset just past the line starting at `at` (its LF included). */
function lineEnd(buf: Buffer, at: number): number {
  const nl = buf.indexOf(LF, at);
  return nl < 0 ? buf.length : nl + 1;
}

function isFromLineAt(buf: Buffer, at: number): boolean {
  return buf[at] === 0x46 /* F */ && isFromLine(buf.toString('latin1', at, lineEnd(buf, at)));
}

/** The first line starting at or after `at` (a line start) that is a `From ` line; -1 when none. */
function nextFromLine(buf: Buffer, at: number): number {
  if (at < buf.length && isFromLineAt(buf, at)) return at;
  for (let nl = buf.indexOf(FROM_AT_LINE_START, at); nl >= 0; nl = buf.indexOf(FROM_AT_LINE_START, nl + 1)) {
    if (isFromLineAt(buf, nl + 1)) return nl + 1;
  }
  return -1;
}

/** mailsplit --mboxrd's is_gtfrom(): `>From `, `>>From `... */
function isQuotedFrom(buf: Buffer, at: number, end: number): boolean {
  let i = at;
  while (i < end && buf[i] === 0x3e /* > */) i++;
  return i > at && end - i >= 5 && buf.toString('latin1', i, i + 5) === 'From ';
}

/** The lines in [start, end) as mailsplit writes them: CRLF -> LF, and with mboxrd one `>` less on `>From ` lines. */
function messageBytes(buf: Buffer, start: number, end: number, format: MboxFormat): Buffer {
  const region = buf.subarray(start, end);
  const unquote = format === 'mboxrd' && region.indexOf('>From ') >= 0;
  if (!unquote && region.indexOf('\r\n') < 0) return region;
  const chunks: Buffer[] = [];
  for (let at = start; at < end; ) {
    const next = Math.min(lineEnd(buf, at), end);
    let from = at;
    let to = next;
    if (unquote && isQuotedFrom(buf, at, next)) from += 1;
    if (to - from > 1 && buf[to - 1] === LF && buf[to - 2] === CR) {
      chunks.push(buf.subarray(from, to - 2), Buffer.from('\n'));
    } else chunks.push(buf.subarray(from, to));
    at = next;
  }
  return Buffer.concat(chunks);
}

/**
 * The messages of an mbox. White space before the first line is skipped (as mailsplit does);
 * other text before the first `From ` line is not a message (counted in `skipped`). A buffer
 * with no `From ` line at all is one message, as `git am` (mailsplit -b) reads a single mail.
 */
export function readMbox(buf: Buffer, opts: MboxOptions = {}): MboxSplit {
  const format = opts.format ?? 'mboxo';
  let at = 0;
  while (at < buf.length && isSpace(buf[at]!)) at++;
  if (at >= buf.length) return { messages: [], skipped: 0 };
  let skipped = 0;
  if (!isFromLineAt(buf, at)) {
    const first = nextFromLine(buf, lineEnd(buf, at));
    if (first < 0) return { messages: [messageBytes(buf, at, buf.length, format)], skipped: 0 };
    skipped = first - at;
    at = first;
  }
  const messages: Buffer[] = [];
  while (at < buf.length) {
    const body = lineEnd(buf, at);
    const next = nextFromLine(buf, body);
    const end = next < 0 ? buf.length : next;
    messages.push(messageBytes(buf, body, end, format));
    at = end;
  }
  return { messages, skipped };
}

/** The messages of an mbox (see {@link readMbox}). */
export function splitMbox(buf: Buffer, opts: MboxOptions = {}): Buffer[] {
  return readMbox(buf, opts).messages;
}
