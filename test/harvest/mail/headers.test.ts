import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHeaders, unfoldHeaders } from '../../../src/harvest/mail/headers.js';
import { splitMbox } from '../../../src/harvest/mail/mbox.js';
import { CORPUS_DIR } from './git-mailinfo.js';

describe('readHeaders', () => {
  const expected = JSON.parse(readFileSync(join(CORPUS_DIR, 'expected.json'), 'utf8')) as { messages: Array<Record<string, unknown>> };

  test.each(expected.messages.map((m) => [m.file as string, m]))('%s: id, author, date, subject as expected.json', (file, m) => {
    const h = readHeaders(readFileSync(join(CORPUS_DIR, file)));
    expect(h.messageId).toBe(m.message_id);
    expect(h.subject).toBe(m.raw_subject);
    expect(h.from).toEqual({ name: m.from_name, email: m.from_email });
    expect(h.dateHeader).toBe(m.date_header);
    expect(h.date?.toISOString().replace('.000', '')).toBe(m.date_utc);
    if (m.version !== undefined && m.route !== null) expect(h.tag).toMatchObject({ version: m.version, ...(m.total === 1 ? {} : { number: m.number, total: m.total }) });
    if (m.kind === 'comment') expect(h.isReply).toBe(true);
  });

  test('threading headers', () => {
    const h = readHeaders(readFileSync(join(CORPUS_DIR, 'messages/013-n2-reviewed-by.eml')));
    expect(h.inReplyTo).toBe('20230207144000.2205117-1-rjones@redhat.com');
    expect(h.references).toEqual(['20230204160210.1718203-1-rjones@redhat.com', '20230207144000.2205117-1-rjones@redhat.com']);
  });

  test('the body is never read: a huge broken body costs nothing and changes nothing', () => {
    const head = 'From: A <a@example.org>\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n\t[x]\r\nMessage-ID: <id@x>\r\n\r\n';
    const h = readHeaders(Buffer.concat([Buffer.from(head), Buffer.alloc(50 * 1024 * 1024, 0xff)]));
    expect(h).toMatchObject({ subject: 'café [x]', messageId: 'id@x', from: { name: 'A', email: 'a@example.org' }, warnings: [] });
  });

  test('fields nobody reads are skipped with their continuation lines, even one that looks like a field', () => {
    const head = 'Received: from relay\r\n Subject: not the subject\r\n\tby host\r\nX-List: a\r\nSubject: the\r\n subject\r\nDKIM-Signature: v=1;\r\n\tFrom: nobody <n@x>\r\nFrom: A <a@example.org>\r\nMessage-ID: <id@x>\r\n\r\nbody\r\n';
    const h = readHeaders(Buffer.from(head));
    expect(h).toMatchObject({ subject: 'the subject', from: { name: 'A', email: 'a@example.org' }, messageId: 'id@x', warnings: [] });
    expect(unfoldHeaders(head.split('\r\n\r\n')[0]!, new Set(['subject']))).toEqual([['subject', 'the subject']]);
    expect(unfoldHeaders('Received: from relay\n Subject: not\nX-A: b\n')).toEqual([['received', 'from relay Subject: not'], ['x-a', 'b']]);
  });

  test('raw 8-bit latin1 header: read as latin1 with a warning', () => {
    const h = readHeaders(Buffer.concat([Buffer.from('From: '), Buffer.from([0x4a, 0xf6, 0x72, 0x67]), Buffer.from(' <j@example.org>\nSubject: x\n\n')]));
    expect(h.from).toEqual({ name: 'Jörg', email: 'j@example.org' });
    expect(h.warnings).toEqual(['from: raw 8-bit header, not UTF-8: read as latin1', 'message-id: missing']);
  });

  test('missing everything, garbage, empty: no throw', () => {
    for (const raw of [Buffer.alloc(0), Buffer.from('\n\n\n'), Buffer.from([0, 1, 2, 0xff, 0x0a]), Buffer.from('Subject')]) {
      const h = readHeaders(raw);
      expect(h.subject).toBe('');
      expect(h.references).toEqual([]);
      expect(h.warnings).toContain('message-id: missing');
    }
  });
});

// splitMbox against git mailsplit: mbox.test.ts
describe('splitMbox', () => {
  test('a single message is one message; empty is none', () => {
    expect(splitMbox(Buffer.from('Subject: x\n\nbody\n'))).toHaveLength(1);
    expect(splitMbox(Buffer.alloc(0))).toEqual([]);
  });
});
