/**
 * JIT warm-up for the parse worker. An IMAP harvest of a large mailbox waits about a second for
 * the server (SELECT, then the first FETCH response) while the parse worker, a fresh V8 isolate,
 * has compiled nothing: its first thousand messages would run several times slower, and V8 would
 * optimize the parse code on the other core just when the fetch needs it. So the worker spends
 * that wait examining synthetic mails of the kinds a list carries: nothing is written or replied,
 * and it stops at the first real request (docs/decisions/harvest-staging.md has the numbers).
 */
import type { Config } from '../core/config-types.js';
import { examineMessage } from './examine.js';
import { planStage } from './staging.js';

/** Mails examined per turn of the event loop: a real request waits for at most one slice. */
const SLICE = 16;
/** Enough for V8 to optimize the per-line and per-message code (measured: ~1,500 examinations). */
const ROUNDS = 2000;

const DIFF = [
  'diff --git a/src/server.c b/src/server.c',
  'index 3f2a1b0..8c9d4e7 100644',
  '--- a/src/server.c',
  '+++ b/src/server.c',
  '@@ -120,9 +120,12 @@ handle_request (struct connection *conn, uint32_t flags)',
  '   int r;',
  ' ',
  '   if (conn->closed) {',
  '-    nbdkit_error ("connection closed");',
  '+    nbdkit_error ("connection closed by the peer (%s)", conn->name);',
  '     return -1;',
  '   }',
  '+  if (flags & ~SUPPORTED_FLAGS) {',
  '+    nbdkit_error ("unknown flags 0x%" PRIx32, flags);',
  '+    return -1;',
  '+  }',
  ' ',
  '   r = conn->ops->pread (conn->handle, buf, count, offset, flags);',
  '   if (r == -1)',
  '@@ -301,7 +304,7 @@ server_config_complete (void)',
  '   "timeout=<SECONDS>       Set the timeout for requests.\\n" \\',
  '-  "verbose=true            Log every request.\\n" \\',
  '+  "verbose=true            Log every request (« debug »).\\n" \\',
  '   "unix=<PATH>             Listen on a Unix domain socket.\\n" \\',
  'diff --git a/tests/test-flags.sh b/tests/test-flags.sh',
  'new file mode 100755',
  'index 0000000..5d1e2c3',
  '--- /dev/null',
  '+++ b/tests/test-flags.sh',
  '@@ -0,0 +1,6 @@',
  '+#!/usr/bin/env bash',
  '+source ./functions.sh',
  '+set -e',
  '+requires_run',
  '+nbdkit -U - memory 1M --run \'nbdsh -u "$uri" -c "h.pread(512, 0, 0x80)"\' && exit 1',
  '+exit 0',
  '',
].join('\n');

const MESSAGE = 'server: reject unknown request flags\n\nA client sending flags we do not know got them passed on to the plugin.\nFail the request instead, and say which flags.\n\nSigned-off-by: Ann Author <ann@example.org>\n';

function headers(id: number, subject: string, extra: string[] = []): string[] {
  return [
    'From: =?UTF-8?Q?Ann_Aut=C3=B6r?= <ann@example.org>',
    'To: list@example.org',
    `Subject: ${subject}`,
    `Date: Tue, 3 Mar 2026 10:${String(id % 60).padStart(2, '0')}:00 +0100 (CET)`,
    `Message-ID: <warm-up-${id}@patchline.invalid>`,
    ...extra,
    'MIME-Version: 1.0',
  ];
}

/** A patch series with a cover letter and a review, chatter, a pull request: plain, quoted-printable and attached. */
export function warmUpMails(config: Config): Buffer[] {
  const [repo, settings] = Object.entries(config.repos)[0] ?? ['project', { branches: ['master'] }];
  const tag = (counter: string, version = '') => `[${settings.branches[0] ?? 'master'} PATCH${version} ${repo}${counter}]`;
  const thread = ['In-Reply-To: <warm-up-0@patchline.invalid>', 'References: <warm-up-0@patchline.invalid>'];
  const qp = (text: string) => text.replace(/[=\u0080-\uffff]/g, (c) => [...Buffer.from(c)].map((b) => `=${b.toString(16).toUpperCase()}`).join(''));
  const mails = [
    [...headers(0, `${tag(' 0/3', ' v2')} server: stricter requests`), 'Content-Type: text/plain; charset=UTF-8', '', 'This series makes the server stricter.\n\nAnn Author (3):\n  server: reject unknown request flags\n'],
    [...headers(1, `${tag(' 1/3', ' v2')} server: reject unknown request flags`, thread), 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit', '', `${MESSAGE}---\n${DIFF}`],
    [...headers(2, `${tag(' 2/3', ' v2')} server: say which flags`, thread), 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: quoted-printable', '', qp(`${MESSAGE}---\n${DIFF}`)],
    [
      ...headers(3, `${tag(' 3/3', ' v2')} tests: unknown flags`, thread),
      'Content-Type: multipart/mixed; boundary="==warm-up=="',
      '',
      '--==warm-up==',
      'Content-Type: text/plain; charset=UTF-8',
      '',
      MESSAGE,
      '--==warm-up==',
      'Content-Type: text/x-patch; name="0003-tests.patch"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="0003-tests.patch"',
      '',
      Buffer.from(DIFF).toString('base64').replace(/.{76}/g, '$&\n'),
      '--==warm-up==--',
      '',
    ],
    [...headers(4, `Re: ${tag(' 0/3', ' v2')} server: stricter requests`, thread), 'Content-Type: text/plain; charset=UTF-8', '', '> This series makes the server stricter.\n\nLooks good.\n\nReviewed-by: Rita Reviewer <rita@example.org>\nTested-by: Tom Tester <tom@example.org>\n'],
    [...headers(5, `${tag('')} server: reject unknown request flags`), 'Content-Type: text/plain; charset=UTF-8', '', `${MESSAGE}---\n${DIFF}`],
    [...headers(6, 'how do I limit the request size?'), 'Content-Type: text/plain; charset=UTF-8', '', 'Hello,\n\nis there a setting for the largest request?\n\nThanks\n'],
    [...headers(7, `[GIT PULL] ${repo} fixes`), 'Content-Type: text/plain; charset=UTF-8', '', 'The following changes since commit 0123456789abcdef0123456789abcdef01234567:\n\n  server: fix (2026-03-01)\n\nare available in the Git repository.\n'],
  ];
  return mails.map((lines) => Buffer.from(lines.join('\r\n').replace(/\r?\n/g, '\r\n')));
}

/**
 * Examine the warm-up mails in slices until `stop()` says real work arrived or ROUNDS are done.
 * Never throws: the warm-up only ever saves time.
 */
export function warmUp(config: Config, maxBytes: number, stop: () => boolean): void {
  let mails: Buffer[];
  try {
    mails = warmUpMails(config);
  } catch {
    return;
  }
  let round = 0;
  const slice = (): void => {
    if (stop()) return;
    try {
      for (const end = round + SLICE; round < end; round++) {
        const raw = mails[round % mails.length]!;
        const { facts, extraction } = examineMessage(raw, { maxBytes });
        if (extraction) planStage(facts, extraction, config);
      }
    } catch {
      return;
    }
    if (round < ROUNDS) setImmediate(slice);
  };
  setImmediate(slice);
}
