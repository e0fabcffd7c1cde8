/** Transfer decodings as git mailinfo applies them (decode_q_segment, decode_b_segment, decode_header), on byte strings. */
import { convertToUtf8 } from './charset.js';

function hexval(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Quoted-printable; `rfc2047` turns `_` into a space. A `=` at the end of the line is a soft break. */
export function decodeQ(seg: string, rfc2047: boolean): string {
  let out = '';
  const end = seg.indexOf('\0') < 0 ? seg.length : seg.indexOf('\0');
  for (let i = 0; i < end; i++) {
    const c = seg[i]!;
    if (c === '=') {
      const d = seg[i + 1];
      if (d === undefined || d === '\n' || i + 1 >= end) break;
      const hi = hexval(d);
      const lo = i + 2 < end ? hexval(seg[i + 2]!) : -1;
      if (hi >= 0 && lo >= 0) {
        out += String.fromCharCode((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    out += rfc2047 && c === '_' ? ' ' : c;
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int16Array(256).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/** Base64, skipping anything that is not a base64 digit (as git does, `=` included). */
export function decodeB(seg: string): string {
  const out: number[] = [];
  let pos = 0;
  let acc = 0;
  for (let i = 0; i < seg.length; i++) {
    const code = seg.charCodeAt(i);
    if (code === 0) break;
    const c = code < 256 ? B64_VALUE[code]! : -1;
    if (c < 0) continue;
    switch (pos++) {
      case 0:
        acc = c << 2;
        break;
      case 1:
        out.push((acc | (c >> 4)) & 255);
        acc = (c & 15) << 4;
        break;
      case 2:
        out.push((acc | (c >> 2)) & 255);
        acc = (c & 3) << 6;
        break;
      default:
        out.push((acc | c) & 255);
        acc = pos = 0;
    }
  }
  return Buffer.from(out).toString('latin1');
}

/**
 * RFC 2047 encoded-words in a header value, each converted to UTF-8 (git's decode_header).
 * Whitespace between two encoded-words is dropped. Returns undefined where git gives up
 * (malformed encoded-word, unknown charset): the caller then keeps the raw value.
 */
export function decodeEncodedWords(value: string): string | undefined {
  let out = '';
  let at = 0;
  for (;;) {
    const start = value.indexOf('=?', at);
    if (start < 0) break;
    const between = value.slice(at, start);
    if (between.trim() !== '' || at === 0) out += between;
    const q1 = value.indexOf('?', start + 2);
    if (q1 < 0 || q1 + 3 > value.length) return undefined;
    const charset = value.slice(start + 2, q1);
    const encoding = value[q1 + 1]?.toLowerCase();
    if (value[q1 + 2] !== '?') return undefined;
    const stop = value.indexOf('?=', q1 + 3);
    if (stop < 0) return undefined;
    const piece = value.slice(q1 + 3, stop);
    let decoded: string;
    if (encoding === 'b') decoded = decodeB(piece);
    else if (encoding === 'q') decoded = decodeQ(piece, true);
    else return undefined;
    // RFC 2231 language suffix: `utf-8*en`.
    const converted = convertToUtf8(decoded, charset.replace(/\*.*$/, ''));
    if (converted === undefined) return undefined;
    out += converted;
    at = stop + 2;
  }
  return out + value.slice(at);
}
