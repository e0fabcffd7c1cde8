import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../src/core/config-types.js';
import { inspectFile } from '../../../src/harvest/inspect.js';
import { CORPUS_DIR } from './git-mailinfo.js';

const expected = JSON.parse(readFileSync(join(CORPUS_DIR, 'expected.json'), 'utf8')) as { messages: Array<{ file: string; message_id: string; kind: string; commit_subject?: string; from_email: string }> };
const config: Config = { sources: [], repos: { nbdkit: { url: 'file:///x', branches: ['master', 'stable-1.32'] } } };
const corpusMbox = readFileSync(join(CORPUS_DIR, 'all.mbox'));

/** expected.json calls the untagged [PATCH] a patch; harvest's bucket for it is unroutable, and duplicates are the harvest's call. */
function bucketOf(m: { kind: string; file: string }): string {
  if (m.file.includes('x1-untagged')) return 'unroutable';
  return m.kind === 'duplicate' ? 'patch' : m.kind;
}

describe('inspectFile', () => {
  test('the corpus mbox: one report per message, buckets and extraction as expected.json', () => {
    const reports = inspectFile(corpusMbox, { config });
    expect(reports.map((r) => [r.messageId, r.bucket])).toEqual(expected.messages.map((m) => [m.message_id, bucketOf(m)]));
    reports.forEach((r, i) => {
      const m = expected.messages[i]!;
      expect(r.extraction.author.email).toBe(m.from_email);
      if (m.commit_subject) expect(r.extraction.subject).toBe(m.commit_subject);
    });
    expect(reports[0]).toMatchObject({ bucket: 'unroutable', reason: expect.stringContaining('names no branch and no repo'), route: null });
    expect(reports.find((r) => r.messageId === 'c0ffee02.review@example.org')!.reviewTrailers).toEqual(['Reviewed-by: Reviewer One <reviewer1@example.org>']);
  });

  test('without a config the route is reported as not checked', () => {
    const [report] = inspectFile(readFileSync(join(CORPUS_DIR, 'messages/021-s3-3.eml')));
    expect(report).toMatchObject({ bucket: 'patch', reason: 'no config: route not checked', route: { repo: 'nbdkit', branch: 'stable-1.32' }, series: { version: 1, number: 3, total: 4 } });
  });

  test('a message without Message-ID is keyed by its content hash', () => {
    const [report] = inspectFile(Buffer.from('From: a@example.org\nSubject: hi\n\nhello\n'));
    expect(report!.messageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(report!.bucket).toBe('other');
  });
});

describe('patchline inspect (the built CLI)', () => {
  const cli = new URL('../../../dist/src/cli.js', import.meta.url).pathname;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'patchline-inspect-'));
    writeFileSync(join(dir, 'patchline.yaml'), 'sources:\n  - type: mbox\n    name: list\n    path: all.mbox\nrepos:\n  nbdkit:\n    url: file:///x\n    branches: [master]\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('prints a JSON array and names the known branches', () => {
    const out = execFileSync('node', [cli, 'inspect', '--config', join(dir, 'patchline.yaml'), join(CORPUS_DIR, 'messages/022-s3-1.eml')]).toString();
    const [report] = JSON.parse(out);
    expect(report).toMatchObject({ bucket: 'quarantined', reason: 'branch "stable-1.32" is not configured for repo nbdkit (known: master)' });
  });

  test('a missing file is a usage error: exit 2, one line', () => {
    const r = spawnSync('node', [cli, 'inspect', join(dir, 'nope.eml')]);
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toMatch(/^patchline: EUSAGE cannot read .*nope\.eml: no such file/);
    expect(r.stderr.toString().trim().split('\n')).toHaveLength(1);
  });
});
