/**
 * A port of git's mailinfo.c (git 2.39): the message, the patch and the From/Subject/Date
 * git am would use, computed the way `git mailinfo -u` computes them. Works on byte strings
 * (one char per byte) so every rule stays byte-exact; the caller turns the result into text.
 */
import { cleanupSpace, gitTrim } from './address.js';
import { convertToUtf8 } from './charset.js';
import { decodeB, decodeEncodedWords, decodeQ } from './rfc2047.js';

const INFO_HEADERS = ['From', 'Subject', 'Date'] as const;
type InfoHeader = (typeof INFO_HEADERS)[number];
type HeaderData = Partial<Record<InfoHeader, string>>;
const MAX_BOUNDARIES = 5;

export interface MailinfoOptions {
  /** Honour `-- >8 --` scissors lines (git mailinfo --scissors; off by default, as in git am). */
  scissors?: boolean;
}

export interface MailinfoResult {
  /** Raw (decoded, UTF-8 where a charset said so) header values git uses; in-body ones win when there is a patch. */
  from?: string;
  subject?: string;
  date?: string;
  /** The commit message (git's `msg` file), UTF-8 byte string. */
  message: string;
  /** Everything from the first patch line on (git's `patch` file), bytes as sent after transfer decoding. */
  patch: string;
  /** Problems that git reports as errors (each once); parsing went on with the raw value. */
  errors: string[];
  /**
   * The charset of the text when git mailinfo stops reading the body (a line of the message
   * cannot be converted to UTF-8): what it read so far is kept, the rest is lost, git am refuses the mail.
   */
  unconvertible?: string;
}

type TransferEncoding = 'none' | 'qp' | 'base64';

/** Git's rtrim of isspace (space, tab, LF, CR). */
function rtrim(s: string): string {
  let end = s.length;
  while (end > 0 && ' \t\n\r'.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/** Fields named by RFC 2822 "optional-field" (and mbox `From ` lines) count as headers. */
function isRfc2822Header(line: string): boolean {
  if (line.startsWith('From ') || line.startsWith('>From ')) return true;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch === 58) return true;
    if ((ch >= 33 && ch <= 57) || (ch >= 59 && ch <= 126)) continue;
    return false;
  }
  return false;
}

/** `Subject:` prefix (case-insensitive), then the value without leading whitespace. */
function skipHeader(line: string, name: string): string | undefined {
  if (line.length <= name.length || line.slice(0, name.length).toLowerCase() !== name.toLowerCase() || line[name.length] !== ':') return undefined;
  let i = name.length + 1;
  while (i < line.length && ' \t\n\r'.includes(line[i]!)) i++;
  return line.slice(i);
}

/** `boundary=`, `charset=`...: quoted, or up to `; \t`. */
function slurpAttr(line: string, name: string): string | undefined {
  const at = line.toLowerCase().indexOf(name);
  if (at < 0) return undefined;
  let i = at + name.length;
  const ends = line[i] === '"' ? '"' : '; \t';
  if (ends === '"') i++;
  let j = i;
  while (j < line.length && !ends.includes(line[j]!)) j++;
  return line.slice(i, j);
}

/** `diff -`, `Index: `, `--- file` or a `---` line of only whitespace starts the patch. */
export function isPatchBreak(line: string): boolean {
  if (line.startsWith('diff -') || line.startsWith('Index: ')) return true;
  if (line.length < 4 || !line.startsWith('---')) return false;
  if (line[3] === ' ' && !' \t\n\r'.includes(line[4] ?? ' ')) return true;
  for (let i = 3; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\n') return true;
    if (!' \t\r'.includes(c)) break;
  }
  return false;
}

/** A line with `>8` or `8<` in dashes (git's is_scissors_line). */
export function isScissorsLine(line: string): boolean {
  let scissors = 0;
  let gap = 0;
  let firstNonblank: number | undefined;
  let lastNonblank: number | undefined;
  let visible = 0;
  let perforation = 0;
  let inPerforation = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (' \t\n\r'.includes(c)) {
      if (inPerforation) {
        perforation++;
        gap++;
      }
      continue;
    }
    lastNonblank = i;
    if (firstNonblank === undefined) firstNonblank = i;
    if (c === '-') {
      inPerforation = true;
      perforation++;
      continue;
    }
    if (line.startsWith('>8', i) || line.startsWith('8<', i) || line.startsWith('>%', i) || line.startsWith('%<', i)) {
      inPerforation = true;
      perforation += 2;
      scissors += 2;
      i++;
      continue;
    }
    inPerforation = false;
  }
  if (firstNonblank !== undefined && lastNonblank !== undefined) visible = lastNonblank - firstNonblank + 1;
  return scissors > 0 && visible >= 8 && visible < perforation * 3 && gap * 2 < perforation;
}

const FORMAT_PATCH_SEPARATOR = /^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001\n$/;

class Mailinfo {
  private pos = 0;
  private readonly primary: HeaderData = {};
  private readonly secondary: HeaderData = {};
  private boundaries: string[] = [];
  private charset = '';
  private transferEncoding: TransferEncoding = 'none';
  private formatFlowed = false;
  private delsp = false;
  private filterStage = 0;
  private headerStage = true;
  private inbodyAccum = '';
  private message = '';
  private patch = '';
  private patchLines = 0;
  private readonly errors: string[] = [];
  /** git's mi->input_error from the body (the charset that failed): the body loop stops after the line that set it. */
  private inputError: string | undefined;

  constructor(
    private readonly src: string,
    private readonly opts: MailinfoOptions,
  ) {}

  /** strbuf_getwholeline: the next line with its LF, undefined at the end. */
  private wholeLine(): string | undefined {
    if (this.pos >= this.src.length) return undefined;
    const nl = this.src.indexOf('\n', this.pos);
    const end = nl < 0 ? this.src.length : nl + 1;
    const line = this.src.slice(this.pos, end);
    this.pos = end;
    return line;
  }

  /** strbuf_getline_lf: the next line without its LF. */
  private lineLf(): string | undefined {
    const line = this.wholeLine();
    return line === undefined ? undefined : line.endsWith('\n') ? line.slice(0, -1) : line;
  }

  /** One header with its folded continuation lines; `header: false` with the line that ended the block. */
  private readHeaderLine(): { header: boolean; line?: string } {
    const first = this.lineLf();
    if (first === undefined) return { header: false };
    let line = rtrim(first);
    if (line.length === 0 || !isRfc2822Header(line)) return { header: false, line: line + '\n' };
    for (;;) {
      const peek = this.src[this.pos];
      if (peek !== ' ' && peek !== '\t') break;
      const cont = this.lineLf()!;
      line += rtrim(' ' + cont.slice(1));
    }
    return { header: true, line };
  }

  private parseHeader(line: string, name: string): string | undefined {
    const value = skipHeader(line, name);
    if (value === undefined) return undefined;
    const decoded = decodeEncodedWords(value);
    if (decoded === undefined) {
      this.errors.push(`${name}: malformed RFC 2047 encoded-word or unknown charset, kept as sent`);
      return value;
    }
    return decoded;
  }

  private checkHeader(line: string, data: HeaderData, overwrite: boolean): boolean {
    for (const name of INFO_HEADERS) {
      if (data[name] !== undefined && !overwrite) continue;
      const value = this.parseHeader(line, name);
      if (value !== undefined) {
        data[name] = value;
        return true;
      }
    }
    const contentType = this.parseHeader(line, 'Content-Type');
    if (contentType !== undefined) {
      this.handleContentType(contentType);
      return true;
    }
    const cte = this.parseHeader(line, 'Content-Transfer-Encoding');
    if (cte !== undefined) {
      const lower = cte.toLowerCase();
      this.transferEncoding = lower.includes('base64') ? 'base64' : lower.includes('quoted-printable') ? 'qp' : 'none';
      return true;
    }
    return this.parseHeader(line, 'Message-ID') !== undefined;
  }

  private handleContentType(value: string): void {
    this.formatFlowed = slurpAttr(value, 'format=')?.toLowerCase() === 'flowed';
    this.delsp = slurpAttr(value, 'delsp=')?.toLowerCase() === 'yes';
    const boundary = slurpAttr(value, 'boundary=');
    if (boundary !== undefined) {
      if (this.boundaries.length >= MAX_BOUNDARIES) {
        this.errors.push('too many nested MIME boundaries');
        this.boundaries[this.boundaries.length - 1] = '--' + boundary;
      } else this.boundaries.push('--' + boundary);
    }
    this.charset = slurpAttr(value, 'charset=') ?? '';
  }

  private get boundary(): string | undefined {
    return this.boundaries[this.boundaries.length - 1];
  }

  private isBoundary(line: string): boolean {
    const b = this.boundary;
    return b !== undefined && line.startsWith(b);
  }

  /** Skip to the next line starting with the current boundary; that line, or undefined at the end. */
  private findBoundary(): string | undefined {
    for (let line = this.lineLf(); line !== undefined; line = this.lineLf()) {
      if (this.isBoundary(line)) return line;
    }
    return undefined;
  }

  /** At a boundary line: pop closed multiparts, read the next part's headers; its first body line, or undefined. */
  private handleBoundary(line: string): string | undefined {
    for (;;) {
      const b = this.boundary!;
      if (line.length >= b.length + 2 && line.startsWith('--', b.length)) {
        this.boundaries.pop();
        this.filter('\n');
        const next = this.findBoundary();
        if (next === undefined) return undefined;
        line = next;
        continue;
      }
      break;
    }
    this.transferEncoding = 'none';
    this.charset = '';
    for (let h = this.readHeaderLine(); h.header; h = this.readHeaderLine()) this.checkHeader(h.line!, this.primary, false);
    const first = this.lineLf();
    return first === undefined ? undefined : first + '\n';
  }

  private flushInbodyHeader(): void {
    if (this.inbodyAccum.length === 0) return;
    this.checkHeader(this.inbodyAccum, this.secondary, false);
    this.inbodyAccum = '';
  }

  private isInbodyHeader(line: string): boolean {
    return INFO_HEADERS.some((name) => this.secondary[name] === undefined && skipHeader(line, name) !== undefined);
  }

  private checkInbodyHeader(line: string): boolean {
    if (this.inbodyAccum.length > 0 && (line[0] === ' ' || line[0] === '\t')) {
      if (this.opts.scissors && isScissorsLine(line)) {
        this.flushInbodyHeader();
        return false;
      }
      if (this.inbodyAccum.endsWith('\n')) this.inbodyAccum = this.inbodyAccum.slice(0, -1);
      this.inbodyAccum += line;
      return true;
    }
    this.flushInbodyHeader();
    if (line.startsWith('>From') && ' \t\n\r'.includes(line[5] ?? 'x')) return FORMAT_PATCH_SEPARATOR.test(line.slice(1));
    if (line.startsWith('[PATCH]') && ' \t\n\r'.includes(line[7] ?? 'x')) {
      this.secondary.Subject = line;
      return true;
    }
    if (this.isInbodyHeader(line)) {
      this.inbodyAccum += line;
      return true;
    }
    return false;
  }

  /** One line of the commit message; true when it starts the patch. */
  private commitMessageLine(line: string): boolean {
    if (this.headerStage && (line.length === 0 || line === '\n')) {
      if (this.inbodyAccum.length > 0) {
        this.flushInbodyHeader();
        this.headerStage = false;
      }
      return false;
    }
    if (this.headerStage) {
      this.headerStage = this.checkInbodyHeader(line);
      if (this.headerStage) return false;
    }
    const converted = convertToUtf8(line, this.charset);
    if (converted === undefined) {
      // git prints this for every line it cannot convert before it stops: once is enough
      if (this.inputError === undefined) this.errors.push(`cannot convert from ${this.charset.slice(0, 60)} to UTF-8`);
      this.inputError ??= this.charset.slice(0, 60);
      return false;
    }
    line = converted;
    if (this.opts.scissors && isScissorsLine(line)) {
      this.message = '';
      this.headerStage = true;
      for (const name of INFO_HEADERS) delete this.secondary[name];
      return false;
    }
    if (isPatchBreak(line)) return true;
    this.message += line;
    return false;
  }

  /** RFC 3676: undo space-stuffing, join soft-broken lines (a trailing space), drop it with DelSp=yes. */
  private unflow(line: string): string {
    if (line.startsWith(' ')) line = line.slice(1);
    if (line === '-- \n') return line;
    if (line.length > 1 && line[line.length - 2] === ' ' && line.endsWith('\n')) return line.slice(0, this.delsp ? -2 : -1);
    return line;
  }

  private filter(line: string): void {
    if (this.formatFlowed) line = this.unflow(line);
    if (this.filterStage === 0) {
      if (!this.commitMessageLine(line)) return;
      this.filterStage = 1;
    }
    this.patch += line;
    this.patchLines++;
  }

  private decodeTransfer(line: string): string {
    if (this.transferEncoding === 'qp') return decodeQ(line, false);
    if (this.transferEncoding === 'base64') return decodeB(line);
    return line;
  }

  private body(first: string | undefined): void {
    let line = first;
    if (this.boundary !== undefined) {
      const b = this.findBoundary();
      if (b === undefined) return;
      line = b;
    }
    let prev = '';
    while (line !== undefined) {
      if (this.isBoundary(line)) {
        if (prev.length > 0) {
          this.filter(prev);
          prev = '';
        }
        const next = this.handleBoundary(line);
        if (next === undefined) return;
        line = next;
      }
      const decoded = this.decodeTransfer(line);
      if (this.transferEncoding === 'none') this.filter(decoded);
      else {
        // Decoded text may hold several lines, or a partial one carried to the next input line.
        const text = prev + decoded;
        prev = '';
        let start = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
          this.filter(text.slice(start, nl + 1));
          start = nl + 1;
        }
        if (start < text.length) prev = text.slice(start);
      }
      if (this.inputError !== undefined) {
        // git stops reading here; a partial decoded line is dropped
        this.flushInbodyHeader();
        return;
      }
      line = this.wholeLine();
    }
    if (prev.length > 0) this.filter(prev);
    this.flushInbodyHeader();
  }

  run(): MailinfoResult {
    while (this.pos < this.src.length && ' \t\n\r'.includes(this.src[this.pos]!)) this.pos++;
    if (this.pos >= this.src.length) return { message: '', patch: '', errors: ['empty message'] };
    let h = this.readHeaderLine();
    for (; h.header; h = this.readHeaderLine()) this.checkHeader(h.line!, this.primary, true);
    this.body(h.line);
    const pick = (name: InfoHeader) => (this.patchLines > 0 && this.secondary[name] !== undefined ? this.secondary[name] : this.primary[name]);
    const subject = pick('Subject');
    const date = pick('Date');
    return {
      from: pick('From'),
      subject: subject === undefined ? undefined : gitTrim(cleanupSpace(cleanupSubject(subject))),
      date: date === undefined ? undefined : cleanupSpace(date),
      message: this.message,
      patch: this.patch,
      errors: this.errors,
      ...(this.inputError === undefined ? {} : { unconvertible: this.inputError }),
    };
  }
}

/** Strip leading `Re:`, `[...]` groups, spaces and colons (git's cleanup_subject, without -k/-b). */
export function cleanupSubject(subject: string): string {
  let s = subject;
  for (;;) {
    const c = s[0];
    if ((c === 'r' || c === 'R') && s.length > 3 && (s[1] === 'e' || s[1] === 'E') && s[2] === ':') {
      s = s.slice(3);
      continue;
    }
    if (c === ' ' || c === '\t' || c === ':') {
      s = s.slice(1);
      continue;
    }
    if (c === '[') {
      const close = s.indexOf(']');
      if (close < 0) break;
      s = s.slice(close + 1);
      continue;
    }
    break;
  }
  return gitTrim(s);
}

export function mailinfo(src: string, opts: MailinfoOptions = {}): MailinfoResult {
  return new Mailinfo(src, opts).run();
}
