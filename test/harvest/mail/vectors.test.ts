/** File-based vectors (git's mailinfo test style): `<name>.eml` in, `<name>.expected.json` pinned. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { classifyMessage } from '../../../src/harvest/classify.js';
import { parseMessage } from '../../../src/harvest/mail/extract.js';
import { reviewTrailers } from '../../../src/harvest/route.js';
import { VECTOR_DIR, emlFiles } from './git-mailinfo.js';
import { VECTOR_CONFIG } from './vector-config.js';

describe('mail vectors', () => {
  test.each(emlFiles(VECTOR_DIR).map((f) => [basename(f, '.eml'), f]))('%s', (_name, file) => {
    const expected = JSON.parse(readFileSync(file.replace(/\.eml$/, '.expected.json'), 'utf8'));
    const parsed = parseMessage(readFileSync(file), expected.options ?? {});
    const c = classifyMessage(parsed.headers, parsed.extraction, { config: VECTOR_CONFIG, unusable: parsed.unusable });
    const e = parsed.extraction;
    const tag = c.tag ? { branch: c.tag.branch ?? null, repo: c.tag.repo ?? null, version: c.tag.version, number: c.tag.number ?? null, total: c.tag.total ?? null } : null;
    expect({
      ...(expected.options ? { options: expected.options } : {}),
      messageId: parsed.headers.messageId ?? null,
      bucket: c.bucket,
      reason: c.reason ?? null,
      route: c.route ?? null,
      tag,
      isReply: parsed.headers.isReply,
      unusable: parsed.unusable ?? null,
      warnings: parsed.headers.warnings,
      reviewTrailers: reviewTrailers(e),
      author: e.author,
      date: e.date ?? null,
      subject: e.subject,
      body: e.body,
      trailers: e.trailers,
      diff: e.diff,
      ...(e.diffEncoding ? { diffEncoding: e.diffEncoding } : {}),
    }).toEqual(expected);
  });
});
