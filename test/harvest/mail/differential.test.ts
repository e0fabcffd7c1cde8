/**
 * parseMessage against the real `git mailinfo` on every corpus message and every vector; and
 * renderPatchFile checked by running git mailinfo / git am on what it renders.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseMessage } from '../../../src/harvest/mail/extract.js';
import { addTrailers, renderPatchBytes, renderPatchFile, renderPatchParts } from '../../../src/harvest/patch-file.js';
import { CORPUS_DIR, VECTOR_DIR, asText, emlFiles, gitMailinfo } from './git-mailinfo.js';

const corpus = emlFiles(join(CORPUS_DIR, 'messages'));
const vectors = emlFiles(VECTOR_DIR);

describe('parseMessage equals git mailinfo', () => {
  test.each([...corpus, ...vectors].map((f) => [basename(f), f]))('%s', (_name, file) => {
    const raw = readFileSync(file);
    const scissors = basename(file) === 'scissors.eml';
    const git = gitMailinfo(raw, { scissors });
    const { extraction } = parseMessage(raw, { scissors });
    expect({
      author: extraction.author.name,
      email: extraction.author.email,
      subject: extraction.subject,
      date: extraction.date,
      body: extraction.body,
      diff: extraction.diff,
    }).toEqual({
      author: git.author ?? '',
      email: git.email ?? '',
      subject: git.subject ?? '',
      date: git.date?.trim(),
      body: asText(git.msg),
      diff: asText(git.patch),
    });
  });
});

describe('renderPatchFile gives git mailinfo the same author, date, subject and patch', () => {
  const patches = [...corpus, ...vectors].filter((f) => parseMessage(readFileSync(f)).extraction.diff !== '');
  test.each(patches.map((f) => [basename(f), f]))('%s', (_name, file) => {
    const raw = readFileSync(file);
    const { headers, extraction } = parseMessage(raw);
    const rendered = renderPatchBytes(extraction, { messageId: headers.messageId ?? 'x@y', number: 2, total: 3, extraTrailers: ['Reviewed-by: Re Viewer <rv@example.org>'] });
    const original = gitMailinfo(raw);
    const again = gitMailinfo(rendered);
    expect([again.author, again.email, again.subject, again.date?.trim()]).toEqual([original.author, original.email, original.subject, original.date?.trim()]);
    // A patch that starts at `diff --git` gets the `---` separator format-patch would have written.
    const expected = original.patch.toString('latin1').startsWith('---') ? original.patch : Buffer.concat([Buffer.from('---\n'), original.patch]);
    expect(again.patch.equals(expected)).toBe(true);
    expect(asText(again.msg)).toContain('Reviewed-by: Re Viewer <rv@example.org>\n');
  });
});

describe('review trailers added to a rendered patch give the bytes of rendering with them', () => {
  const patches = [...corpus, ...vectors].filter((f) => parseMessage(readFileSync(f)).extraction.diff !== '');
  test.each(patches.map((f) => [basename(f), f]))('%s', (_name, file) => {
    const { headers, extraction } = parseMessage(readFileSync(file));
    const opts = { messageId: headers.messageId ?? 'x@y', number: 2, total: 3 };
    const staged = renderPatchParts(extraction, opts);
    expect(staged.bytes.equals(renderPatchBytes(extraction, opts))).toBe(true);
    // a new trailer, one the mail already has (kept once), and none at all
    for (const extra of [['Reviewed-by: Re Viewer <rv@example.org>', ...extraction.trailers.slice(0, 1)], extraction.trailers.slice(0, 1), []]) {
      const added = addTrailers(staged.bytes, staged.body, extra);
      expect(added.toString('latin1')).toBe(renderPatchBytes(extraction, { ...opts, extraTrailers: extra }).toString('latin1'));
    }
  });
});

describe('git am of a rendered patch', () => {
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'patchline-am-'));
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    git('config', 'user.name', 'Committer');
    git('config', 'user.email', 'committer@example.org');
    writeFileSync(join(repo, 'README'), 'base\n');
    git('add', 'README');
    git('commit', '-q', '-m', 'base');
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  test.each([['new-file-patch.eml'], ['binary-patch.eml']])('%s applies with the author, date and subject of the original', (name) => {
    const raw = readFileSync(join(VECTOR_DIR, name));
    const { headers, extraction } = parseMessage(raw);
    const file = join(repo, '..', `${basename(repo)}-${name}.patch`);
    const trailer = 'Acked-by: Ack Er <ack@example.org>';
    writeFileSync(file, renderPatchFile(extraction, { messageId: headers.messageId!, extraTrailers: [trailer, ...extraction.trailers] }));
    try {
      git('am', '-q', '--message-id', file);
    } finally {
      rmSync(file, { force: true });
    }
    const original = gitMailinfo(raw);
    const [author, email, date, subject] = git('log', '-1', '--format=%an%x00%ae%x00%aD%x00%s').trimEnd().split('\0');
    expect([author, email, subject]).toEqual([original.author, original.email, original.subject]);
    expect(new Date(date!).getTime()).toBe(new Date(original.date!).getTime());
    const message = git('log', '-1', '--format=%B');
    expect(message.split('\n').filter((l) => l === trailer)).toHaveLength(1);
    expect(message).toContain(`Message-Id: <${headers.messageId}>`);
  });

  test('the files are byte-exact: trailing whitespace, no final newline, binary content', () => {
    expect(readFileSync(join(repo, 'hello.txt'), 'latin1')).toBe('hello world   \nno newline');
    const binary = readFileSync(join(VECTOR_DIR, 'binary-patch.eml'), 'latin1');
    const blobId = /^index 0{40}\.\.([0-9a-f]{40})$/m.exec(binary)![1];
    expect(git('rev-parse', 'HEAD:blob.bin').trim()).toBe(blobId);
  });
});

describe('unknown and bogus charsets, as git mailinfo reads them', () => {
  const head = (contentType: string, cte = '8bit') =>
    ['From: Ann Author <ann@example.org>', 'Subject: [master PATCH nbdkit] fix the thing', 'Date: Tue, 2 Jan 2024 03:04:05 +0000', 'Message-ID: <cs@example.org>', 'MIME-Version: 1.0', `Content-Type: ${contentType}`, `Content-Transfer-Encoding: ${cte}`, '', ''].join('\n');
  const text = 'Explain the fix, caf\xe9.\nSecond line.\n\nSigned-off-by: Ann Author <ann@example.org>\n';
  const diff = '---\n f | 1 +\n 1 file changed\n\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n a\n+b\n';
  const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64').replace(/.{1,76}/g, '$&\n');
  const multipart = (first: string, second: string) =>
    head('multipart/mixed; boundary="b"') + `--b\nContent-Type: text/plain; charset=utf-8\n\n${first}\n--b\n${second}\n--b--\n`;
  // [name, mail, whether git mailinfo stops (exit 1: git am refuses the mail)]
  const cases: Array<[string, string, boolean]> = [
    ['charset="none"', head('text/plain; charset="none"') + text + diff, true],
    ['a codec that does not exist', head('text/plain; charset=x-no-such-codec') + text + diff, true],
    ['charset=unknown-8bit, base64', head('text/plain; charset=unknown-8bit', 'base64') + b64(text + diff), true],
    ['charset="none", quoted-printable', head('text/plain; charset="none"', 'quoted-printable') + text.replace('\xe9', '=E9') + diff, true],
    ['in-body From: before the text', head('text/plain; charset="none"') + 'From: Other Person <other@example.org>\n\n' + text + diff, true],
    ['a bogus charset on a part after the diff', multipart('Explain the fix.\n' + diff, 'Content-Type: text/plain; charset="none"\n\nan attachment after the patch\n'), false],
    ['a bogus charset on the part holding text and diff', multipart('Explain the fix.\n', `Content-Type: text/x-patch; charset=bogus\n\n${text}${diff}`), true],
    ['ANSI_X3.4-1968 (glibc for ASCII)', head('text/plain; charset=ANSI_X3.4-1968') + text.replace('\xe9', 'e') + diff, false],
    ['cp932 (iconv), Shift_JIS to WHATWG', head('text/plain; charset=cp932') + 'Fix \x93\xfa\x96\x7b\x8c\xea text.\n' + diff, false],
  ];

  test.each(cases)('%s', (_name, mail, stops) => {
    const raw = Buffer.from(mail, 'latin1');
    const git = gitMailinfo(raw);
    expect(git.status !== 0).toBe(stops);
    const { headers, extraction } = parseMessage(raw);
    expect({ author: extraction.author.name, email: extraction.author.email, subject: extraction.subject, date: extraction.date, body: extraction.body, diff: extraction.diff, refused: extraction.undecodable !== undefined }).toEqual({
      author: git.author ?? '',
      email: git.email ?? '',
      subject: git.subject ?? '',
      date: git.date?.trim(),
      body: asText(git.msg),
      diff: asText(git.patch),
      refused: git.status !== 0,
    });
    // one warning per message, however many lines are in that charset
    const gitErrors = git.stderr.split('\n').filter((l) => l.startsWith('error: cannot convert'));
    expect(headers.warnings.filter((w) => w.startsWith('cannot convert'))).toHaveLength(gitErrors.length > 0 ? 1 : 0);
  });
});
