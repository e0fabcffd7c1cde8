/** Shared by the tracking tests: an upstream with new commits (one a merge), packaging repos, a config, a mail server into dovecot. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { stringify } from 'yaml';
import { Git } from '../../src/git/git.js';
import { FIXTURE_ENV, commitFiles, makeRemote } from '../support/git-fixtures.js';
import type { Dovecot } from '../support/dovecot.js';

export const DIST = join(process.cwd(), 'dist');

/** An upstream (bare remote + work repo) tagged v1.0, and the commits after it. */
export interface Upstream {
  remote: string;
  work: Git;
  base: string;
  /** First-parent commits after v1.0, oldest first. */
  commits: string[];
  merge: string;
}

const SOURCES = {
  'src/main.c': 'int main(void)\n{\n\treturn 0;\n}\n',
  'src/util.c': 'int util(int x)\n{\n\treturn x + 1;\n}\n',
  README: 'foo: a test program\n',
};

/** v1.0, then c1, c2, a merge of a side branch (two commits), c4, c5: five first-parent commits. */
export async function makeUpstream(root: string): Promise<Upstream> {
  const { work, remote } = await makeRemote(join(root, 'upstream'), SOURCES, 'main');
  await work.run(['tag', 'v1.0']);
  const base = (await work.revParse('HEAD'))!;
  const c1 = await commitFiles(work, 'util: return x + 2\n\nA longer body\nwith two lines.', { 'src/util.c': 'int util(int x)\n{\n\treturn x + 2;\n}\n' });
  const c2 = await commitFiles(work, 'Add a NEWS file', { NEWS: 'news\n' });
  await work.run(['checkout', '--quiet', '-b', 'side', c1]);
  await commitFiles(work, 'side: add helper', { 'src/helper.c': 'void helper(void) {}\n' });
  await commitFiles(work, 'side: document helper', { 'docs/helper.txt': 'helper\n' });
  await work.run(['checkout', '--quiet', 'main']);
  await work.run(['merge', '--quiet', '--no-ff', '-m', "Merge branch 'side'", 'side']);
  const merge = (await work.revParse('HEAD'))!;
  const c4 = await commitFiles(work, 'main: print nothing', { 'src/main.c': 'int main(void)\n{\n\t/* nothing */\n\treturn 0;\n}\n' });
  const c5 = await commitFiles(work, 'README: say more', { README: 'foo: a test program\nmore\n' });
  await work.run(['push', '--quiet', '--tags', 'origin', 'main']);
  return { remote, work, base, commits: [c1, c2, merge, c4, c5], merge };
}

/** A spec: two PatchN lines and %setup + %patch (`setup`), or %autosetup. */
export function packagingSpec(style: 'setup' | 'autosetup'): string {
  const prep = style === 'setup' ? '%setup -q\n%patch -P 0 -p1\n%patch -P 1 -p1\n' : '%autosetup -p1\n';
  return `Name: foo
Version: 1.0
Release: 3%{?dist}
Summary: test package
License: MIT
Source0: foo-1.0.tar.gz
Patch0: 0001-packaging-doc.patch
Patch1: 0002-packaging-note.patch

%description
A test package.

%prep
${prep}
%build

%install

%files

%changelog
* Mon Jan 02 2023 Packager <packager@example.org> - 1.0-3
- older entry
`;
}

function newFilePatch(path: string, text: string, subject: string): string {
  const lines = text.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
  return `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Packager <packager@example.org>
Date: Mon, 2 Jan 2023 00:00:00 +0000
Subject: [PATCH] ${subject}

---
 ${path} | ${lines.length} +
 1 file changed, ${lines.length} insertions(+)
 create mode 100644 ${path}

diff --git a/${path} b/${path}
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/${path}
@@ -0,0 +1,${lines.length} @@
${lines.map((l) => `+${l}`).join('\n')}
-- 
2.39.5
`;
}

/** A packaging repo (dist-git) on `branch` with the spec and its two patches (Source0 comes from the upstream tag). */
export async function makePackaging(root: string, style: 'setup' | 'autosetup', branch = 'master'): Promise<{ remote: string; work: Git }> {
  return makeRemote(
    join(root, `packaging-${style}`),
    {
      'foo.spec': packagingSpec(style),
      '0001-packaging-doc.patch': newFilePatch('PACKAGING', 'packaged\n', 'packaging doc'),
      '0002-packaging-note.patch': newFilePatch('NOTE', 'note\n', 'packaging note'),
    },
    branch,
  );
}

export interface MailServer {
  port: number;
  /** Message-IDs accepted, in order. */
  accepted: string[];
  close(): Promise<void>;
}

/** An SMTP server (smtp-server) delivering every accepted mail into the dovecot Maildir. */
export async function startMailServer(maildir: string): Promise<MailServer> {
  const owner = statSync(maildir);
  for (const sub of ['tmp', 'new', 'cur']) {
    mkdirSync(join(maildir, sub), { recursive: true });
    chownSync(join(maildir, sub), owner.uid, owner.gid);
  }
  const accepted: string[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const name = `${Date.now()}.${randomBytes(6).toString('hex')}.test`;
        writeFileSync(join(maildir, 'tmp', name), raw);
        chownSync(join(maildir, 'tmp', name), owner.uid, owner.gid);
        renameSync(join(maildir, 'tmp', name), join(maildir, 'new', name));
        accepted.push(/^Message-ID:\s*<([^>]+)>/im.exec(raw.toString('latin1'))?.[1] ?? '?');
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, accepted, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The mails in the Maildir (new/ and cur/). */
export function maildirMessages(maildir: string): string[] {
  return ['new', 'cur'].flatMap((d) => {
    try {
      return readdirSync(join(maildir, d)).map((f) => readFileSync(join(maildir, d, f), 'latin1'));
    } catch {
      return [];
    }
  });
}

/** A patchline.yaml: the dovecot mailbox as the source, the packaging repos as repos:, tracking to the list. */
export function writeTrackingConfig(dir: string, opts: { dovecot: Dovecot; smtpPort: number; repos: Record<string, { url: string; branch: string }>; deliveryCheck?: boolean }): string {
  const path = join(dir, 'patchline.yaml');
  const repos = Object.fromEntries(Object.entries(opts.repos).map(([name, r]) => [name, { url: r.url, branches: [r.branch] }]));
  writeFileSync(
    path,
    stringify({
      stateDir: 'state',
      sources: [{ type: 'imap', name: 'list', host: opts.dovecot.host, port: opts.dovecot.port, security: 'plain', user: opts.dovecot.user, password: { env: 'PL_TEST_IMAP_PASSWORD' } }],
      repos,
      apply: { gate: 'none', committer: { name: 'Apply Bot', email: 'apply@example.org' }, trustedSenders: ['@example.org'] },
      build: { sandbox: 'bwrap' },
      report: { smtp: { host: '127.0.0.1', port: opts.smtpPort, security: 'plain', from: 'patchline <patchline@example.org>' }, ...(opts.deliveryCheck ? { deliveryCheck: { source: 'list', waitSeconds: 2 } } : {}) },
      tracking: { reviewTo: ['packaging-list@example.org'], reviewFrom: 'Patch Tracking <tracking@example.org>', branchUrl: 'https://git.example.org/{repo}/log/?h={branch}' },
    }),
  );
  return path;
}

export { CLI, runCli, type CliResult } from '../support/cli.js';

/** Branches of a bare repo matching a prefix. */
export async function branchesOf(remote: string, prefix = 'patch-tracking/'): Promise<string[]> {
  const out = await new Git(remote).output(['for-each-ref', '--format=%(refname:short)', `refs/heads/${prefix}`]);
  return out.split('\n').filter(Boolean);
}

export { FIXTURE_ENV };
