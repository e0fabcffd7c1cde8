import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandSandbox, ROOT_MOUNT } from '../../src/pkgtest/commands.js';
import { runSandboxed } from '../../src/pkgtest/sandbox.js';

/** What a test command can and cannot reach (real bwrap): the sandbox the repos' tests run in. */
const dir = mkdtempSync(join(tmpdir(), 'pl-sandbox-'));
const root = join(dir, 'root');
const secretFile = join(dir, 'secret.txt');
let server: Server;
let url: string;

beforeAll(async () => {
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(root, 'usr', 'bin', 'mytool'), '#!/bin/sh\necho "mytool from the package, root at $PATCHLINE_TEST_ROOT"\n', { mode: 0o755 });
  writeFileSync(secretFile, 'hunter2\n');
  server = createServer((_req, res) => res.end('reached'));
  url = await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function run(name: string, argv: string[], timeoutSeconds = 30): Promise<{ code: number | null; timedOut: boolean; seconds: number; out: string }> {
  const logFile = join(dir, `${name}.log`);
  const r = await runSandboxed(commandSandbox({ root, kind: 'payload' }, argv), { logFile, timeoutSeconds });
  return { ...r, out: readFileSync(logFile, 'utf8') };
}

describe('test command sandbox (bubblewrap)', () => {
  test('the package\'s own bin dir comes first on PATH, the host\'s /usr beneath', async () => {
    const r = await run('path', ['mytool']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`mytool from the package, root at ${ROOT_MOUNT}`);
  });

  test('no variable of patchline\'s reaches the command', async () => {
    process.env.PATCHLINE_TEST_SECRET = 'hunter2';
    try {
      const r = await run('env', ['env']);
      expect(r.code).toBe(0);
      expect(r.out).not.toContain('hunter2');
      expect(r.out.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]).sort()).toEqual(['HOME', 'LANG', 'LD_LIBRARY_PATH', 'PATCHLINE_TEST_ROOT', 'PATH', 'PWD', 'TMPDIR']);
    } finally {
      delete process.env.PATCHLINE_TEST_SECRET;
    }
  });

  test('no network: a server on the host\'s loopback that the host reaches is not reachable', async () => {
    const probe = `import urllib.request; print(urllib.request.urlopen(${JSON.stringify(url)}, timeout=5).read().decode())`;
    // asynchronously: this process serves the request
    expect((await promisify(execFile)('/usr/bin/python3', ['-c', probe], { encoding: 'utf8' })).stdout).toContain('reached');
    const r = await run('net', ['python3', '-c', probe]);
    expect(r.code).not.toBe(0);
    expect(r.out).not.toContain('reached');
    expect(r.out).toMatch(/Connection refused|Network is unreachable|urlopen error/);
  });

  test('the host\'s files outside the binds are not there, and nothing outside /tmp is writable', async () => {
    const r = await run('files', ['sh', '-c', `cat ${secretFile}; ls /root /home /work 2>&1; touch /usr/bin/x ${ROOT_MOUNT}/usr/bin/x 2>&1; echo written > /tmp/ok && cat /tmp/ok`]);
    expect(r.out).not.toContain('hunter2');
    expect(r.out).toMatch(/No such file or directory/);
    expect(r.out).toMatch(/touch: cannot touch '\/usr\/bin\/x': Read-only file system/);
    expect(r.out).toContain('written');
  });

  test('commands run as an unprivileged user; the installer keeps no capability to remount (as root, uid 0 of a user namespace could)', async () => {
    expect((await run('id', ['id', '-u'])).out).toMatch(/^65534$/m);
    const escape = `/usr/pl-escape-${process.pid}`;
    const logFile = join(dir, 'remount.log');
    const r = await runSandboxed({ view: { kind: 'host', binds: [] }, argv: ['sh', '-c', `mount -o remount,rw,bind /usr; touch ${escape}`], env: { PATH: '/usr/bin:/bin' }, as: 'installer' }, { logFile, timeoutSeconds: 30 });
    const made = existsSync(escape);
    rmSync(escape, { force: true });
    expect(made).toBe(false);
    expect(r.code).not.toBe(0);
    expect(readFileSync(logFile, 'utf8')).toMatch(/permission denied|must be superuser/i);
  });

  test('at the timeout the command and everything it started are killed, a TERM trap notwithstanding', async () => {
    const r = await run('hang', ['sh', '-c', "trap '' TERM; sleep 876543 & sleep 876544; wait"], 1);
    expect(r.timedOut).toBe(true);
    expect(r.seconds).toBeLessThan(5);
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => /^sleep 87654[34]/.test(l));
    expect(left).toEqual([]);
  });
});
