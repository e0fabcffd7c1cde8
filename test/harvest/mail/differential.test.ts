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
