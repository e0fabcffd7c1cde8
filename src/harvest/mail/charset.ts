/**
 * Bytes <-> text for mail. Mail parsing works on "byte strings" (one char per byte, latin1) so
 * that every rule of git mailinfo can be applied byte for byte; text leaves as real UTF-8.
 */

/** Labels iconv reads as true ISO-8859-1 (WHATWG's TextDecoder would read them as windows-1252). */
const LATIN1 = /^(iso[-_]?8859-1|latin-?1|l1|cp819|ibm819|(us-)?ascii)$/i;

const NON_ASCII = /[^\x00-\x7f]/;

/** Most mail is ASCII: skip the codecs for it. */
function isAscii(s: string): boolean {
  return !NON_ASCII.test(s);
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function toByteString(buf: Buffer): string {
  return buf.toString('latin1');
}

export function fromByteString(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** git's same_encoding() for the UTF-8 target: no conversion needed. */
export function isUtf8Charset(charset: string): boolean {
  return /^utf-?8$/i.test(charset);
}

/** iconv names (what git converts with) WHATWG knows under another label. */
const ICONV_ALIASES: Record<string, string> = { cp932: 'shift_jis' };

/** Convert a byte string in `charset` to a UTF-8 byte string; undefined when the charset is unknown. */
export function convertToUtf8(bytes: string, charset: string): string | undefined {
  if (charset === '' || isUtf8Charset(charset)) return bytes;
  if (LATIN1.test(charset)) return utf8ByteString(bytes);
  try {
    // Node's full ICU: every WHATWG encoding (ISO-2022-JP, Shift_JIS, GBK, KOI8-R, UTF-16...).
    return utf8ByteString(new TextDecoder(ICONV_ALIASES[charset.toLowerCase()] ?? charset).decode(fromByteString(bytes)));
  } catch {
    return undefined;
  }
}

/** Decode a byte string as UTF-8 text; invalid UTF-8 falls back to latin1 (`lossy` tells the caller). */
export function decodeText(bytes: string): { text: string; latin1: boolean } {
  if (isAscii(bytes)) return { text: bytes, latin1: false };
  const buf = fromByteString(bytes);
  try {
    return { text: utf8Strict.decode(buf), latin1: false };
  } catch {
    return { text: bytes, latin1: true };
  }
}

/** A byte string holding the UTF-8 encoding of `text`. */
export function utf8ByteString(text: string): string {
  if (isAscii(text)) return text;
  return Buffer.from(text, 'utf8').toString('latin1');
}
