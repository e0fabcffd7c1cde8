/**
 * `patchline check`: what a run would trip over, one line each, exit 2; nothing changed. Real git
 * remotes, a real dovecot and SMTP server for --connect, the CLI as it is installed (dist/).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { commitFiles, makeRemote, tempDir } from '../support/git-fixtures.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { snapshot } from './support.js';

const CLI = resolve('dist/src/cli.js');
const SPEC = 'Name: hello\nVersion: 1.0\nRelease: 1\nSummary: hi\nLicense: MIT\nSource0: hello-1.0.tar.gz\n%description\nhi\n';

function check(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [CLI, 'check', ...args], { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env } });
  return { status: r.status, lines: r.stdout.split('\n').filter(Boolean), stderr: r.stderr };
}

/** The same without blocking this process: the SMTP server of the test answers from it. */
function checkAsync(args: string[], env: NodeJS.ProcessEnv): Promise<ReturnType<typeof check>> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, 'check', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (status) => done({ status, lines: stdout.split('\n').filter(Boolean), stderr }));
  });
}


/** A project: a bare remote with the spec on main and stable, an mbox, a config beside them. */
async function project(config: (remote: string) => Record<string, unknown>): Promise<{ dir: string; file: string; remote: string }> {
  const dir = tempDir('pl-check-');
  const { work, remote } = await makeRemote(dir, { 'pkg/hello.spec': SPEC, 'README': 'hi\n' }, 'main');
  await work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/stable']);
  // on old: the spec is not there
  await commitFiles(work, 'drop the spec', {}, ['pkg/hello.spec']);
  await work.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/old']);
  writeFileSync(join(dir, 'list.mbox'), '');
  const file = join(dir, 'patchline.yaml');
  writeFileSync(file, stringify(config(remote)));
  return { dir, file, remote };
}

const good = (remote: string) => ({
  sources: [{ name: 'list', type: 'mbox', path: 'list.mbox' }],
  repos: { hello: { url: remote, branches: ['main', 'stable'], build: { spec: 'pkg/hello.spec' } } },
  platforms: [{ name: 'el9', builder: 'local' }],
  publish: { destination: 'www' },
});

describe('patchline check', () => {
  test('a config a run can use: no line on stdout, exit 0, and nothing written (not even the state dir)', async () => {
    const p = await project(good);
    const before = snapshot(p.dir);
    const r = check(['--config', p.file]);
    expect(r.lines).toEqual([]);
    expect(r.stderr).toBe(`patchline check: ${p.file}: no problems\n`);
    expect(r.status).toBe(0);
    expect(snapshot(p.dir)).toEqual(before);
    expect(existsSync(join(p.dir, '.patchline'))).toBe(false);
  });

  test('each problem a run would meet is one line naming the config path; exit 2', async () => {
    const p = await project((remote) => ({
      sources: [
        { name: 'imap', type: 'imap', host: 'imap.example.org', user: 'u', password: { env: 'PL_CHECK_UNSET' } },
        { name: 'gone', type: 'mbox', path: 'missing.mbox' },
      ],
      repos: {
        hello: { url: remote, branches: ['main', 'old', 'nope'], build: { spec: 'pkg/hello.spec' } },
        other: { url: 'nowhere.git', branches: ['main'] },
      },
      platforms: [
        { name: 'f40', builder: 'koji', target: 'f40-candidate', profile: 'missing' },
        { name: 'el9', builder: 'koji', target: 'el9-candidate', profile: 'stg' },
      ],
      build: { kojiConfig: 'koji.conf' },
      publish: { destination: 'README/www' },
      report: { templatesDir: 'no-templates', smtp: { host: 'smtp.example.org', from: 'p <p@example.org>', user: 'p', password: { file: 'smtp-password' } } },
    }));
    writeFileSync(join(p.dir, 'koji.conf'), `[stg]\nserver = https://koji.example.org/kojihub\nauthtype = ssl\ncert = ${join(p.dir, 'no-cert.pem')}\n`);
    writeFileSync(join(p.dir, 'README'), 'a file where publish wants a folder\n');
    const r = check(['--config', p.file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`patchline check: ${p.file}: ${r.lines.length} problems\n`);
    const lines = r.lines.map((l) => l.replaceAll(p.dir, '<dir>'));
    expect(lines).toEqual(
      expect.arrayContaining([
        'sources.0.password: environment variable PL_CHECK_UNSET is not set',
        'report.smtp.password: cannot read secret file: ENOENT (<dir>/smtp-password)',
        'sources.1.path: cannot read <dir>/missing.mbox (ENOENT)',
        'report.templatesDir: cannot read <dir>/no-templates (ENOENT)',
        `platforms.0.profile: Koji profile [missing] not found in <dir>/koji.conf`,
        `platforms.1.profile: Koji profile [stg] (<dir>/koji.conf): cannot read its cert <dir>/no-cert.pem (ENOENT)`,
        `repos.hello.branches.2: branch nope is not on ${p.remote.replaceAll(p.dir, '<dir>')}`,
        `repos.hello.build.spec: pkg/hello.spec is not in branch old of ${p.remote.replaceAll(p.dir, '<dir>')} (at ${lines.find((l) => l.includes('branch old'))?.match(/at ([0-9a-f]{12})\)/)?.[1]})`,
        'publish.destination: <dir>/README/www: <dir>/README is not a directory',
      ]),
    );
    expect(lines.some((l) => l.startsWith('repos.other.url: cannot read <dir>/nowhere.git:'))).toBe(true);
    // main has the spec; every line is one problem
    expect(lines.filter((l) => l.includes('branch main'))).toEqual([]);
    expect(lines.length).toBe(10);
  });

  test('a config the schema refuses: each mistake on its own line', async () => {
    const p = await project((remote) => ({ sources: [{ name: 'x', type: 'mbox' }], repos: { hello: { url: remote, branches: ['main'], colour: 'blue' } } }));
    const r = check(['--config', p.file]);
    expect(r.status).toBe(2);
    expect(r.lines).toEqual(expect.arrayContaining(['sources.0.path: required', 'repos.hello.colour: unknown key']));
  });

  test('the spec is read from the working clone when it holds the branch tip (the remote is not fetched)', async () => {
    const p = await project(good);
    const clone = join(p.dir, '.patchline', 'repos', 'hello');
    mkdirSync(dirname(clone), { recursive: true });
    spawnSync('git', ['clone', '--quiet', '--no-checkout', p.remote, clone]);
    spawnSync('git', ['-C', clone, 'fetch', '--quiet', 'origin', '+refs/heads/*:refs/remotes/origin/*']);
    // the remote still lists its branches but can no longer give its objects: only the clone can answer
    rmSync(join(p.remote, 'objects'), { recursive: true, force: true });
    mkdirSync(join(p.remote, 'objects'));
    const r = check(['--config', p.file]);
    expect(r.lines).toEqual([]);
    expect(r.status).toBe(0);
  });

  test('the tools a run calls are on PATH', async () => {
    const p = await project(good);
    const bin = join(p.dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['git', 'rpmbuild', 'rsync']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
    const r = check(['--config', p.file], { env: { PATH: bin } });
    expect(r.lines).toEqual([
      'repos: rpmspec is not installed (not found on PATH): the spec is read with rpmspec',
      'platforms: createrepo_c is not installed (not found on PATH): publish makes the yum repos with createrepo_c',
      'platforms: rpm is not installed (not found on PATH): publish reads the RPM headers with rpm',
      'test.rpmlint: rpmlint is not installed (not found on PATH): the test step runs rpmlint on every built RPM',
    ]);
    expect(r.status).toBe(2);
  });

  test('a remote publish destination is reached over rsync, and nothing is written there', async () => {
    const p = await project(good);
    const remote = join(p.dir, 'remote-www');
    mkdirSync(remote);
    const ssh = join(p.dir, 'fake-ssh');
    // rsync calls <rsh> <host> <command...>: run the command here, as ssh would there
    writeFileSync(ssh, '#!/bin/sh\nshift\nexec sh -c "$*"\n', { mode: 0o755 });
    const down = join(p.dir, 'down-ssh');
    writeFileSync(down, '#!/bin/sh\necho "ssh: connect to host $1 port 22: Connection refused" >&2\nexit 255\n', { mode: 0o755 });
    const config = (rsh: string) => stringify({ ...good(p.remote), publish: { destination: `somehost:${remote}`, baseUrl: 'https://repos.example.org', rsync: { rsh } } });
    writeFileSync(p.file, config(ssh));
    const reached = check(['--config', p.file]);
    expect(reached.lines).toEqual([]);
    expect(reached.status).toBe(0);
    expect(readdirSync(remote)).toEqual([]);
    writeFileSync(p.file, config(down));
    const refused = check(['--config', p.file]);
    expect(refused.lines[0]).toMatch(new RegExp(`^publish.destination: somehost:${remote}: rsync failed \\(exit code \\d+\\): .*Connection refused`));
    expect(refused.status).toBe(2);
  });

  describe('--connect', () => {
    let dovecot: Dovecot;
    let smtp: TestSmtpServer;
    beforeAll(async () => {
      dovecot = await startDovecot();
      smtp = await startSmtpServer({ user: 'patchline', password: 'right' });
    });
    afterAll(async () => {
      await dovecot?.stop();
      await smtp?.close();
    });

    const withServers = (remote: string) => ({
      ...good(remote),
      sources: [{ name: 'list', type: 'imap', host: '127.0.0.1', port: dovecot.port, security: 'plain', user: dovecot.user, password: { env: 'PL_CHECK_IMAP' } }],
      report: { smtp: { host: '127.0.0.1', port: smtp.port, security: 'plain', user: 'patchline', password: { env: 'PL_CHECK_SMTP' }, from: 'p <p@example.org>' } },
    });

    test('logs in to the IMAP source and the SMTP server; a refused login is a problem', async () => {
      const p = await project(withServers);
      const right = await checkAsync(['--config', p.file, '--connect'], { PL_CHECK_IMAP: dovecot.password, PL_CHECK_SMTP: 'right' });
      expect(right.lines).toEqual([]);
      expect(right.status).toBe(0);
      const wrong = await checkAsync(['--config', p.file, '--connect'], { PL_CHECK_IMAP: 'wrong', PL_CHECK_SMTP: 'wrong' });
      expect(wrong.lines).toEqual([`sources.0: 127.0.0.1 mailbox INBOX: login refused for user ${dovecot.user}`, expect.stringMatching(/^report\.smtp: 127\.0\.0\.1: .*Invalid username or password/)]);
      expect(wrong.status).toBe(2);
      // without --connect nobody is asked
      expect((await checkAsync(['--config', p.file], { PL_CHECK_IMAP: 'wrong', PL_CHECK_SMTP: 'wrong' })).status).toBe(0);
      expect(smtp.logins.map((l) => l.password)).toEqual(['right', 'wrong']);
    });
  });
});
