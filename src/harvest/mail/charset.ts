/**
 * Bytes <-> text for mail. Mail parsing works on "byte strings" (one char per byte, latin1) so
 * that every rule of git mailinfo can be applied byte for byte; text leaves as real UTF-8.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// libmime's charset table (iconv-lite + encoding-japanese) is what mailparser uses too.
const libmimeCharset = require('libmime/lib/charset.js') as { decode(buf: Buffer, charset: string): string; normalizeCharset(c: string): string };
const iconv = require('iconv-lite') as { encodingExists(name: string): boolean };

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

function isJapanese(charset: string): boolean {
  return /^jis|^iso-?2022-?jp|^eucjp/i.test(charset);
}

/** Convert a byte string in `charset` to a UTF-8 byte string; undefined when the charset is unknown. */
export function convertToUtf8(bytes: string, charset: string): string | undefined {
  if (charset === '' || isUtf8Charset(charset)) return bytes;
  const name = libmimeCharset.normalizeCharset(charset);
  if (!isJapanese(name) && !iconv.encodingExists(name)) return undefined;
  return Buffer.from(libmimeCharset.decode(fromByteString(bytes), name), 'utf8').toString('latin1');
}

/** Decode a byte string as UTF-8 text; invalid UTF-8 falls back to latin1 (`lossy` tells the caller). */
export function decodeText(bytes: string): { text: string; latin1: boolean } {
  const buf = fromByteString(bytes);
  try {
    return { text: utf8Strict.decode(buf), latin1: false };
  } catch {
    return { text: bytes, latin1: true };
  }
}

/** A byte string holding the UTF-8 encoding of `text`. */
export function utf8ByteString(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
