import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { acquireRunLock, lockPath, type LockOwner } from '../../src/run/lock.js';

const base = { waitMs: 0, staleMs: 60_000, command: 'test', pollMs: 20 };
const stateDir = () => mkdtempSync(join(tmpdir(), 'pl-lock-'));

describe('state-dir lock', () => {
  test('a second run exits at once with a message naming the running one', async () => {
    const dir = stateDir();
    const first = await acquireRunLock(dir, { ...base, command: 'patchline run --config a.yaml' });
    await expect(acquireRunLock(dir, base)).rejects.toThrow(
      new RegExp(`state dir .* is in use by another run: pid ${process.pid} on ${hostname()}, started .* \\(patchline run --config a.yaml\\)`),
    );
    await expect(acquireRunLock(dir, base)).rejects.toMatchObject({ code: 'ELOCKED' });
    first.release();
    expect(existsSync(lockPath(dir))).toBe(false);
  });

  test('a second run waits for the first to release', async () => {
    const dir = stateDir();
    const first = await acquireRunLock(dir, base);
    const waitedFor: Array<LockOwner | undefined> = [];
    const second = acquireRunLock(dir, { ...base, waitMs: 60_000, onWait: (o) => waitedFor.push(o) });
    await new Promise((r) => setTimeout(r, 100));
    expect(waitedFor.map((o) => o?.token)).toEqual([first.owner.token]);
    first.release();
    const lock = await second;
    expect(JSON.parse(readFileSync(lockPath(dir), 'utf8')).token).toBe(lock.owner.token);
    lock.release();
  });

  test('a wait that times out names the running one too', async () => {
    const dir = stateDir();
    const first = await acquireRunLock(dir, base);
    await expect(acquireRunLock(dir, { ...base, waitMs: 200 })).rejects.toThrow(/in use by another run: pid \d+ .*\(waited 0 s\)/);
    first.release();
  });

  test('the lock of a killed run is taken over', async () => {
    const dir = stateDir();
    const lockModule = resolve('dist/src/run/lock.js');
    const child = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `const { acquireRunLock } = await import(${JSON.stringify(lockModule)});
       await acquireRunLock(${JSON.stringify(dir)}, { waitMs: 0, staleMs: 600000, command: 'killed run' });
       process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`,
    ]);
    await new Promise<void>((ok, fail) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && ok());
      child.on('exit', (code) => fail(new Error(`child exited ${code}`)));
    });
    await expect(acquireRunLock(dir, base)).rejects.toThrow(/killed run/);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const takeovers: string[] = [];
    const lock = await acquireRunLock(dir, { ...base, onTakeover: (o, why) => takeovers.push(`${o?.command}: ${why}`) });
    expect(takeovers).toEqual([`killed run: pid ${child.pid} is not running on this host`]);
    lock.release();
  });

  test('a lock from another host not refreshed for the stale timeout is taken over; a fresh one is not', async () => {
    const dir = stateDir();
    const owner: LockOwner = { pid: 1, host: 'build-agent-7', startedAt: '2026-01-01T00:00:00Z', command: 'patchline run', token: 'x' };
    writeFileSync(lockPath(dir), JSON.stringify(owner));
    await expect(acquireRunLock(dir, { ...base, staleMs: 10_000 })).rejects.toThrow(/pid 1 on build-agent-7/);
    const old = new Date(Date.now() - 20_000);
    utimesSync(lockPath(dir), old, old);
    const takeovers: string[] = [];
    const lock = await acquireRunLock(dir, { ...base, staleMs: 10_000, onTakeover: (_o, why) => takeovers.push(why) });
    expect(takeovers).toEqual([expect.stringMatching(/^not refreshed for 2\d s$/)]);
    lock.release();
  });

  test('the CLI: a second `patchline run` on a locked state dir exits 1 naming the running one', async () => {
    const dir = stateDir();
    writeFileSync(join(dir, 'patchline.yaml'), 'stateDir: state\nsources: [{ type: mbox, name: m, path: none.mbox }]\nrepos: { hello: { url: hello.git, branches: [main] } }\n');
    const held = await acquireRunLock(join(dir, 'state'), { ...base, command: 'nightly' });
    const r = spawnSync(process.execPath, ['dist/src/cli.js', 'run', '--config', join(dir, 'patchline.yaml'), '--wait', '0'], { encoding: 'utf8' });
    held.release();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^patchline: ELOCKED the state dir .*state is in use by another run: pid \d+ on .* \(nightly\)/m);
  });
});
