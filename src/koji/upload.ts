import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { createProgress } from '../core/progress.js';
import { PatchlineError } from '../core/errors.js';
import type { KojiSession } from './session.js';

/** koji's default upload block size. */
export const UPLOAD_CHUNK = 1 << 20;

/** A unique directory on the hub for this upload, shaped like the koji CLI's `cli-build/<time>.<random>`. */
function uploadDir(): string {
  return `cli-build/${(Date.now() / 1000).toFixed(6)}.${randomBytes(5).toString('hex')}`;
}

/**
 * Upload a file the way koji's legacy client does: base64 chunks through uploadFile, each with
 * its sha256, then a final call (offset -1, no data) carrying the size and sha256 of the whole.
 * Returns the hub path to pass to `build`.
 */
export async function uploadFile(session: KojiSession, file: string, chunkSize = UPLOAD_CHUNK): Promise<string> {
  const dir = uploadDir();
  const name = basename(file);
  const size = statSync(file).size;
  const progress = createProgress(`upload ${name}`, Math.max(1, Math.ceil(size / chunkSize)));
  const whole = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(chunkSize);
    for (let offset = 0; offset < size; ) {
      const n = readSync(fd, buf, 0, chunkSize, offset);
      const chunk = buf.subarray(0, n);
      whole.update(chunk);
      const ok = await session.call('uploadFile', dir, name, n, ['sha256', createHash('sha256').update(chunk).digest('hex')], offset, chunk.toString('base64'));
      if (ok !== true) throw new PatchlineError('EKOJI', `Koji uploadFile refused the chunk at offset ${offset} of ${name}`, { input: file });
      offset += n;
      progress.tick(`${offset}/${size} bytes`);
    }
    const ok = await session.call('uploadFile', dir, name, size, ['sha256', whole.digest('hex')], -1, '');
    if (ok !== true) throw new PatchlineError('EKOJI', `Koji uploadFile: the hub did not verify ${name} (size/sha256)`, { input: file });
  } finally {
    closeSync(fd);
    progress.stop();
  }
  return `${dir}/${name}`;
}
