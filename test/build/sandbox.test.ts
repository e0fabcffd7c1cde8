import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { stringify } from 'yaml';
import { PACKAGE_ROOT } from '../../src/core/paths.js';
import { readResult } from '../../src/core/results.js';
import { DEMO_SOURCE, seedRemote } from '../../src/run/demo.js';
import { makePackageFixture } from '../support/rpm-fixtures.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

/**
 * Item 1 of issue 14, end to end: a mail whose spec runs `env`, writes outside the build dir and
 * dials a loopback port, through `patchline run` (harvest, apply, build in the sandbox, report by
 * SMTP) with passwords in the environment and the config.
 */

const tag = randomBytes(6).toString('hex');
const secrets = {
  PATCHLINE_IMAP_PASSWORD: `imap-secret-${tag}`,
  IMAP_PASSWORD: `imap2-secret-${tag}`,
  KOJI_PASSWORD: `koji-secret-${tag}`,
  PL_SMTP_PASSWORD: `smtp-secret-${tag}`,
};
const kojiFileSecret = `koji-file-secret-${tag}`;
const escapes = { build: `/tmp/escape-${tag}`, parse: `/tmp/escape-parse-${tag}` };

let dir: string;
let home: string;
let smtp: TestSmtpServer;
let listener: Server;
const dialed: string[] = [];
let run: { code: number | null; stderr: string };
let runDir: string;

/** Every regular file under `root`. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((f) => join(root, f))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
}

/** The evil patch: parse-time %(...) and a %build that reports and tries everything, then fails (so the log is mailed). */
function evilPatch(work: string, port: number): string {
  const spec = join(work, 'hello.spec');
  const text = readFileSync(spec, 'utf8')
    .replace('BuildArch:      noarch', `BuildArch:      noarch\n%global escaped %(touch ${escapes.parse}; echo 1)`)
    .replace(
      '%build\n',
      [
        '%build',
        'env',
        'id',
        `echo escaped > ${escapes.build} && echo "wrote the sandbox's own /tmp"`,
        `echo escaped > ${home}/escape || echo "no write to the host home"`,
        'echo escaped > "$HOME/escape"',
        `cat ${join(dir, 'koji-password')} || echo "no koji password file"`,
        `bash -c 'echo dialed > /dev/tcp/127.0.0.1/${port}' || echo "no network"`,
        'exit 1',
        '',
      ].join('\n'),
    );
  writeFileSync(spec, text);
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Mallory', GIT_AUTHOR_EMAIL: 'mallory@example.org', GIT_COMMITTER_NAME: 'Mallory', GIT_COMMITTER_EMAIL: 'mallory@example.org' };
  execFileSync('git', ['commit', '-q', '-am', 'hello: build faster'], { cwd: work, env });
  const mail = execFileSync('git', ['format-patch', '-1', '--stdout', '--subject-prefix=main PATCH hello'], { cwd: work, env, encoding: 'utf8' });
  return mail.replace(/^(From: .*)$/m, `Message-Id: <evil-${tag}@example.org>\n$1`);
}

function patchlineRun(config: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli.js'), 'run', '--config', config], { env: { ...process.env, ...secrets, HOME: home, PATCHLINE_RUN_MARKER: `marker-${tag}` }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pl-sandbox-'));
  home = join(dir, 'home');
  mkdirSync(home);
  writeFileSync(join(dir, 'koji-password'), `${kojiFileSecret}\n`, { mode: 0o600 });
  listener = createServer((socket) => {
    dialed.push(socket.remoteAddress ?? '?');
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  smtp = await startSmtpServer({ user: 'patchline', password: secrets.PL_SMTP_PASSWORD });

  await seedRemote(join(dir, 'remote/hello.git'), join(DEMO_SOURCE, 'hello'), ['main']);
  execFileSync('git', ['clone', '-q', join(dir, 'remote/hello.git'), join(dir, 'scratch')]);
  writeFileSync(join(dir, 'list.mbox'), evilPatch(join(dir, 'scratch'), (listener.address() as AddressInfo).port));
  const config = {
    stateDir: 'state',
    sources: [{ type: 'mbox', name: 'list', path: 'list.mbox' }],
    repos: { hello: { url: join(dir, 'remote/hello.git'), branches: ['main'], build: { spec: 'hello.spec' }, report: { recipients: ['list@example.org'] } } },
    // a sender the repo trusts: trust decides what is built, the sandbox holds whoever sent it
    apply: { trustedSenders: ['mallory@example.org'] },
    platforms: [{ name: 'sbx', builder: 'local' }],
    build: { kojiPassword: { file: 'koji-password' } },
    publish: { destination: 'publish' },
    report: { recipients: ['maint@example.org'], smtp: { host: '127.0.0.1', port: smtp.port, security: 'plain', user: 'patchline', password: { env: 'PL_SMTP_PASSWORD' }, from: 'patchline <patchline@example.org>' } },
  };
  writeFileSync(join(dir, 'patchline.yaml'), stringify(config));
  run = await patchlineRun(join(dir, 'patchline.yaml'));
  const runs = join(dir, 'state/runs');
  runDir = join(runs, readdirSync(runs).filter((id) => /^\d{8}T\d{6}Z/.test(id)).sort().pop()!);
}, 120_000);

afterAll(async () => {
  await smtp?.close();
  listener?.close();
  for (const f of Object.values(escapes)) rmSync(f, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('a mail whose spec attacks the build host: the local build runs in the sandbox', () => {
  test('patchline run took the mail through build to the report', () => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/build: \S+ on sbx: failed/) });
  });

  test('the build ran (env, id) and failed as the spec says, as an unprivileged user with HOME in the build dir', () => {
    expect(run.stderr).toMatch(/build: \S+ on sbx: failed/);
    const [b] = readResult(runDir, 'build').builds;
    expect(b).toMatchObject({ state: 'failed', builder: 'local' });
    const log = readFileSync(join(runDir, b!.logs[0]!), 'utf8');
    expect(log).toMatch(/^HOME=\/build$/m);
    expect(log).toMatch(/^PATH=/m);
    if (process.getuid?.() === 0) expect(log).toMatch(/^uid=65534\b/m);
  });

  test('nothing was written outside the build dir, at spec parse time or in %build', () => {
    expect(existsSync(escapes.parse)).toBe(false);
    expect(existsSync(escapes.build)).toBe(false);
    expect(existsSync(join(home, 'escape'))).toBe(false);
    const log = readFileSync(join(runDir, readResult(runDir, 'build').builds[0]!.logs[0]!), 'utf8');
    expect(log).toContain("wrote the sandbox's own /tmp"); // a fresh tmpfs, gone with the sandbox
    expect(log).toContain('no write to the host home');
  });

  test('no network: the loopback listener was never dialed', () => {
    expect(dialed).toEqual([]);
    const log = readFileSync(join(runDir, readResult(runDir, 'build').builds[0]!.logs[0]!), 'utf8');
    expect(log).toContain('no network');
  });

  test('the build saw no variable of patchline\'s own and no password: build.log, every file of the run and state, every mail', async () => {
    const log = readFileSync(join(runDir, readResult(runDir, 'build').builds[0]!.logs[0]!), 'utf8');
    expect(log).not.toMatch(/^PATCHLINE_/m);
    expect(log).toContain('no koji password file');
    const values = [...Object.values(secrets), kojiFileSecret, `marker-${tag}`];
    for (const file of filesUnder(dir).filter((f) => f !== join(dir, 'koji-password'))) {
      const bytes = readFileSync(file);
      for (const v of values) expect({ file, leaked: bytes.includes(v) ? v : undefined }).toEqual({ file, leaked: undefined });
    }
    // the mails as sent and as written, attachments decoded (the failure mail carries build.log)
    const emls = filesUnder(join(runDir, 'report')).filter((f) => f.endsWith('.eml'));
    expect(emls.length).toBeGreaterThan(0);
    expect(smtp.received.length).toBeGreaterThan(0);
    const mails = await Promise.all([...smtp.received.map((m) => m.raw), ...emls.map((f) => readFileSync(f))].map((raw) => simpleParser(raw)));
    const failure = mails.find((m) => m.attachments.some((a) => a.content.toString('utf8').includes('HOME=/build')));
    expect(failure).toBeDefined(); // the build log reached the mail, and with it whatever the build printed
    for (const m of mails) {
      const text = [m.subject, m.text, ...m.attachments.map((a) => a.content.toString('utf8'))].join('\n');
      for (const v of values) expect(text.includes(v)).toBe(false);
      expect(text).not.toMatch(/^PATCHLINE_\w+=/m);
    }
  });
});

describe('no sandbox here: the build fails with one clear line, it never runs unsandboxed', () => {
  /** The build step as a process whose PATH has the tools but not bwrap, or a bwrap that cannot make namespaces. */
  function buildWithout(bwrap: 'missing' | 'refusing') {
    const f = makePackageFixture({ buildScript: `touch ${escapes.build}-unsandboxed` });
    const bin = join(f.dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['git', 'rpm', 'rpmspec', 'rpmbuild', 'setpriv']) symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
    if (bwrap === 'refusing') {
      const fake = join(bin, 'bwrap');
      writeFileSync(fake, '#!/bin/sh\n[ "$1" = --version ] && { echo "bubblewrap 0.8.0"; exit 0; }\necho "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces." >&2\nexit 1\n');
      chmodSync(fake, 0o755);
    }
    const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli.js'), 'build', '--config', f.configFile, '--run-dir', f.runDir], { env: { ...process.env, PATH: bin }, encoding: 'utf8' });
    const [b] = readResult(f.runDir, 'build').builds;
    rmSync(f.dir, { recursive: true, force: true });
    return { stderr: r.stderr, b: b! };
  }

  test('bwrap not installed: ETOOL naming the package and the opt-out', () => {
    const { b, stderr } = buildWithout('missing');
    expect(b).toMatchObject({ state: 'failed', rpms: [], error: { code: 'ETOOL' } });
    expect(b.message).toBe('bwrap is not installed: local builds run in a bubblewrap sandbox (package bubblewrap, scripts/setup.sh installs it), or set build.sandbox: none to build unsandboxed');
    expect(stderr).toContain(b.message!);
    expect(existsSync(`${escapes.build}-unsandboxed`)).toBe(false);
  });

  test('bwrap cannot make its namespaces: ETOOL with bwrap\'s own words', () => {
    const { b } = buildWithout('refusing');
    expect(b).toMatchObject({ state: 'failed', rpms: [], error: { code: 'ETOOL' } });
    expect(b.message).toMatch(/^the build sandbox cannot start here: bwrap: No permissions to create new namespace, .*\), or set build\.sandbox: none to build unsandboxed$/);
    expect(existsSync(`${escapes.build}-unsandboxed`)).toBe(false);
  });
});
