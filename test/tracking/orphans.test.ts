/**
 * A tracking branch no review names (a push that outlived its scan: the scan killed while its
 * `git push` child ran on, the next scan having deleted the branch before the push landed) is
 * deleted by the next scan of its item; the branches of reviews stay.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { commitFiles, makeRemote } from '../support/git-fixtures.js';
import { branchesOf, makePackaging, runCli } from './support.js';

let smtp: TestSmtpServer;
let root: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  root = mkdtempSync(join(tmpdir(), 'pl-track-orphans-'));
});

afterAll(async () => {
  await smtp?.close();
  if (root && !process.env.PATCHLINE_KEEP_TEMP) rmSync(root, { recursive: true, force: true });
});

test('an orphan tracking branch is deleted by the next scan, a reviewed one stays', async () => {
  const { work: up, remote: upstream } = await makeRemote(join(root, 'upstream'), { 'src/util.c': 'int util(int x)\n{\n\treturn x + 1;\n}\n' }, 'main');
  await up.run(['tag', 'v1.0']);
  const base = (await up.revParse('HEAD'))!;
  await commitFiles(up, 'util: return x + 2', { 'src/util.c': 'int util(int x)\n{\n\treturn x + 2;\n}\n' });
  await up.run(['push', '--quiet', '--tags', 'origin', 'main']);
  const pkg = await makePackaging(root, 'autosetup');
  const config = join(root, 'patchline.yaml');
  writeFileSync(
    config,
    stringify({
      stateDir: 'state',
      build: { sandbox: 'bwrap' },
      report: { smtp: { host: '127.0.0.1', port: smtp.port, security: 'plain', from: 'patchline@example.org' } },
      tracking: { reviewTo: ['list@example.org'] },
    }),
  );
  expect((await runCli(['track', 'add', '--config', config, '--repo', 'foo', '--branch', 'master', '--packaging-url', pkg.remote, '--spec', 'foo.spec', '--upstream-url', upstream, '--upstream-branch', 'main', '--last-commit', base])).code).toBe(0);
  const first = await runCli(['track', 'scan', '--config', config]);
  expect(first.code).toBe(0);
  const reviewed = await branchesOf(pkg.remote);
  expect(reviewed).toHaveLength(1);

  // what a push that outlived its scan leaves: a tracking branch no review names
  await pkg.work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/patch-tracking/master/20200101T000000Z']);
  // another packaging branch's tracking branches are not this item's to judge
  await pkg.work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/patch-tracking/stable/20200101T000000Z']);
  const again = await runCli(['track', 'scan', '--config', config]);
  expect(again.code).toBe(0);
  expect(again.stderr).toContain('warning: track foo master: deleted patch-tracking/master/20200101T000000Z: no review names it (a push that outlived its scan)');
  expect((await branchesOf(pkg.remote)).sort()).toEqual([...reviewed, 'patch-tracking/stable/20200101T000000Z'].sort());
});
