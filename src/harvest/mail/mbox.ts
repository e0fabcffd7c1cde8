/** Split an mbox (mboxo or mboxrd) into messages, as git mailsplit finds them. */

/** git's is_from_line(): `From ` then something ending in a `hh:mm[:ss] yyyy`-ish date. */
export function isFromLine(line: string): boolean {
  if (line.length < 20 || !line.startsWith('From ')) return false;
  const colon = line.lastIndexOf(':', line.length - 2);
  if (colon < 9) return false;
  const digit = (i: number) => /[0-9]/.test(line[i] ?? '');
  if (!digit(colon - 4) || !digit(colon - 2) || !digit(colon - 1) || !digit(colon + 1) || !digit(colon + 2)) return false;
  return parseInt(line.slice(colon + 3), 10) > 90;
}

/** mboxrd: `>From `, `>>From `... lose one `>`. */
function unescapeFromLines(msg: Buffer): Buffer {
  if (msg.indexOf('>From ') < 0) return msg;
  return Buffer.from(msg.toString('latin1').replace(/^>(>*From )/gm, '$1'), 'latin1');
}

/**
 * The messages of an mbox, without their `From ` separator lines. A buffer that does not start
 * with a `From ` line is one message. `>From ` lines are unescaped (mboxrd) unless `mboxo`.
 */
export function splitMbox(buf: Buffer, opts: { format?: 'mboxrd' | 'mboxo' } = {}): Buffer[] {
  const starts: number[] = [];
  const lineAt = (at: number) => {
    const nl = buf.indexOf(0x0a, at);
    return buf.subarray(at, nl < 0 ? buf.length : nl).toString('latin1').replace(/\r$/, '');
  };
  if (!isFromLine(lineAt(0))) return buf.length === 0 ? [] : [buf];
  for (let at = 0; at >= 0 && at < buf.length; at = buf.indexOf('\nFrom ', at)) {
    const lineStart = at === 0 ? 0 : at + 1;
    if (isFromLine(lineAt(lineStart))) starts.push(lineStart);
    at = lineStart + 1;
  }
  return starts.map((start, i) => {
    const end = starts[i + 1] ?? buf.length;
    const bodyStart = buf.indexOf(0x0a, start) + 1 || end;
    let msg = buf.subarray(Math.min(bodyStart, end), end);
    // The empty line mbox writers put before the next `From ` belongs to the separator.
    if (msg.length >= 2 && msg[msg.length - 1] === 0x0a && (msg[msg.length - 2] === 0x0a || (msg[msg.length - 2] === 0x0d && msg[msg.length - 3] === 0x0a))) {
      msg = msg.subarray(0, msg.length - (msg[msg.length - 2] === 0x0d ? 2 : 1));
    }
    return opts.format === 'mboxo' ? msg : unescapeFromLines(msg);
  });
}
