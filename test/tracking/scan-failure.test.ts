/**
 * An upstream commit that does not apply on the packaging: rpmbuild -bp fails in the sandbox, no
 * branch is pushed, no mail sent, the review record names the patch and why, and the scan exits
 * 1 with one line. The same range is not tried again until the packaging branch moves; then it is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFileSync } from 'node:fs';
import { Git } from '../../src/git/git.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { commitFiles, makeRemote } from '../support/git-fixtures.js';
import { branchesOf, makePackaging, packagingSpec, runCli } from './support.js';

let smtp: TestSmtpServer;
let root: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  root = mkdtempSync(join(tmpdir(), 'pl-track-fail-'));
});

afterAll(async () => {
  await smtp?.close();
  if (root && !process.env.PATCHLINE_KEEP_TEMP) rmSync(root, { recursive: true, force: true });
});

test.each(['setup', 'autosetup'] as const)('%s: a patch that does not apply: nothing pushed, the review names the patch; retried once the packaging moves', async (style) => {
  const { work: up, remote: upstream } = await makeRemote(join(root, `upstream-${style}`), { 'src/util.c': 'int util(int x)\n{\n\treturn x + 1;\n}\n', README: 'foo\n' }, 'main');
  await up.run(['tag', 'v1.0']);
  const base = (await up.revParse('HEAD'))!;
  await commitFiles(up, 'util: return x + 2', { 'src/util.c': 'int util(int x)\n{\n\treturn x + 2;\n}\n' });
  // the packaging's Patch1 creates NOTE with other content: this one cannot apply after it
  await commitFiles(up, 'Add a NOTE', { NOTE: 'upstream note\n' });
  await up.run(['push', '--quiet', '--tags', 'origin', 'main']);
  const pkg = await makePackaging(root, style);
  const config = join(root, `patchline-${style}.yaml`);
  writeFileSync(
    config,
    stringify({
      stateDir: `state-${style}`,
      sources: [{ type: 'mbox', name: 'list', path: 'list.mbox' }],
      repos: { foo: { url: pkg.remote, branches: ['master'] } },
      build: { sandbox: 'bwrap' },
      report: { smtp: { host: '127.0.0.1', port: smtp.port, security: 'plain', from: 'patchline@example.org' } },
      tracking: { reviewTo: ['list@example.org'] },
    }),
  );
  const add = await runCli(['track', 'add', '--config', config, '--repo', 'foo', '--branch', 'master', '--packaging-url', pkg.remote, '--spec', 'foo.spec', '--upstream-url', upstream, '--upstream-branch', 'main', '--last-commit', base]);
  expect(add.code).toBe(0);

  const scan = await runCli(['track', 'scan', '--config', config]);
  expect(scan.code).toBe(1);
  const lines = scan.stderr.trim().split('\n');
  if (process.env.PL_DEBUG) console.log(scan.stderr);
  expect(lines.pop()).toMatch(/^patchline: ETRACK foo master: failed: rpmbuild -bp failed, nothing pushed: 0004-Add-a-NOTE.patch: upstream [0-9a-f]{12} "Add a NOTE" does not apply: .*(FAILED|exists)/);
  expect(await branchesOf(pkg.remote)).toEqual([]);
  const before = smtp.received.length;
  expect(before).toBe(style === 'setup' ? 0 : 4);
  const reviews = JSON.parse((await runCli(['track', 'reviews', '--config', config, '--json'])).stdout) as Array<{ state: string; failure: { patch: string; message: string }; patches: string[] }>;
  expect(reviews).toHaveLength(1);
  expect(reviews[0]!.state).toBe('failed');
  expect(reviews[0]!.failure.patch).toBe('0004-Add-a-NOTE.patch');
  expect(reviews[0]!.patches).toEqual(['0003-util-return-x-2.patch', '0004-Add-a-NOTE.patch']);
  // lastCommit did not move: no commit skipped
  const item = JSON.parse((await runCli(['track', 'show', '--config', config, '--repo', 'foo', '--branch', 'master', '--json'])).stdout) as { item: { lastCommit: string } };
  expect(item.item.lastCommit).toBe(base);

  // the same range on the same packaging: not tried again, the same failure said
  const again = await runCli(['track', 'scan', '--config', config]);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/0004-Add-a-NOTE.patch: .*tried again once master of the packaging moves/);
  expect(await branchesOf(pkg.remote)).toEqual([]);

  // the maintainer drops the conflicting packaging patch: the next scan reviews the range
  await commitFiles(pkg.work, 'Drop the note patch', { 'foo.spec': packagingSpec(style).replace('Patch1: 0002-packaging-note.patch\n', '').replace('%patch -P 1 -p1\n', '') }, ['0002-packaging-note.patch']);
  await pkg.work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/master']);
  const fixed = await runCli(['track', 'scan', '--config', config]);
  expect(fixed.stderr).not.toMatch(/ETRACK/);
  expect(fixed.code).toBe(0);
  expect(await branchesOf(pkg.remote)).toHaveLength(1);
  expect(smtp.received).toHaveLength(before + 4); // cover + 2 patches + the Release bump
  const spec = (await new Git(pkg.remote).run(['show', `${(await branchesOf(pkg.remote))[0]!}:foo.spec`])).stdout;
  expect(spec).toContain('Patch0: 0001-packaging-doc.patch\nPatch1: 0002-util-return-x-2.patch\nPatch2: 0003-Add-a-NOTE.patch\n');
});
