import { PatchlineError } from '../core/errors.js';

/** One line typed on a terminal without echo (raw mode: we see each key, the terminal shows none). */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((done, fail) => {
    let text = '';
    const finish = (err?: PatchlineError): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) fail(err);
      else done(text);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new PatchlineError('EUSAGE', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The new password from stdin, never from argv: typed twice without echo on a terminal, else
 * the first line of stdin (`patchline passwd < file`, a pipe from a secret store).
 */
export async function readNewPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await readHidden('New password: ');
    const again = await readHidden('Again: ');
    if (first !== again) throw new PatchlineError('EUSAGE', 'the two passwords differ');
    return first;
  }
  const line = (await readAll(process.stdin)).split(/\r?\n/)[0] ?? '';
  if (line === '') throw new PatchlineError('EUSAGE', 'no password on stdin (type it on a terminal, or pipe it in: one line)');
  return line;
}
