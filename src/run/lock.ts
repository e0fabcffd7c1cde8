import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedConfig } from '../core/config.js';
import { PatchlineError, isErrno } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** Who holds a state dir: written into `<state>/run.lock`. */
export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  /** Tells two owners apart when a pid is reused. */
  token: string;
}

export interface LockOptions {
  /** How long a second run waits for the lock before giving up (ms; 0 = do not wait). */
  waitMs: number;
  /** A lock not refreshed for this long is stale, whoever holds it (ms). */
  staleMs: number;
  /** The command line recorded in the lock, shown to whoever waits. */
  command: string;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: (owner: LockOwner | undefined) => void;
  /** Called when a stale lock is taken over. */
  onTakeover?: (owner: LockOwner | undefined, why: string) => void;
  pollMs?: number;
}

export interface RunLock {
  path: string;
  owner: LockOwner;
  release(): void;
}

export function lockPath(stateDir: string): string {
  return join(stateDir, 'run.lock');
}

export function describeOwner(owner: LockOwner | undefined): string {
  if (!owner) return 'an unknown run (unreadable lock file)';
  return `pid ${owner.pid} on ${owner.host}, started ${owner.startedAt} (${owner.command})`;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrno(err, 'ESRCH');
  }
}

/** Why the lock at `path` is stale, or undefined while its owner may still be running. */
function staleReason(path: string, owner: LockOwner | undefined, staleMs: number): string | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  if (owner && owner.host === hostname() && !pidAlive(owner.pid)) return `pid ${owner.pid} is not running on this host`;
  const age = Date.now() - mtimeMs;
  if (age > staleMs) return `not refreshed for ${Math.round(age / 1000)} s`;
  return undefined;
}

/** Create the lock file with our owner record, only if none exists (link() is atomic and fails on EEXIST). */
function tryCreate(path: string, owner: LockOwner): boolean {
  const tmp = `${path}.${owner.pid}-${owner.token}`;
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, JSON.stringify(owner) + '\n');
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Move a stale lock aside. Two runs may both find it stale: each renames what it sees, then
 * checks it moved the stale owner and not a fresh lock the other one just made (put back if so).
 */
function removeStale(path: string, stale: LockOwner | undefined, ownToken: string): void {
  const aside = `${path}.stale-${ownToken}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  const moved = readOwner(aside);
  if (stale && moved && moved.token !== stale.token) {
    try {
      linkSync(aside, path);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
  }
  rmSync(aside, { force: true });
}

/**
 * One run at a time per state dir: an O_EXCL-style lock file holding pid + host + start time,
 * refreshed while we hold it. A busy lock is waited for (up to `waitMs`); a stale one (owner
 * dead on this host, or not refreshed for `staleMs`) is taken over.
 */
export async function acquireRunLock(stateDir: string, opts: LockOptions): Promise<RunLock> {
  mkdirSync(stateDir, { recursive: true });
  const path = lockPath(stateDir);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: opts.command,
    token: randomBytes(8).toString('hex'),
  };
  const deadline = Date.now() + opts.waitMs;
  let waiting = false;
  for (;;) {
    if (tryCreate(path, owner)) break;
    const current = readOwner(path);
    const why = staleReason(path, current, opts.staleMs);
    if (why !== undefined) {
      opts.onTakeover?.(current, why);
      removeStale(path, current, owner.token);
      continue;
    }
    if (Date.now() >= deadline) {
      const waited = opts.waitMs > 0 ? ` (waited ${Math.round(opts.waitMs / 1000)} s)` : '';
      throw new PatchlineError('ELOCKED', `the state dir ${stateDir} is in use by another run: ${describeOwner(current)}${waited}; wait for it to end, or remove ${path} if that run is gone`, { input: path });
    }
    if (!waiting) opts.onWait?.(current);
    waiting = true;
    await sleep(Math.min(opts.pollMs ?? 250, Math.max(1, deadline - Date.now())));
  }
  // Refresh the mtime so a long run (a Koji build of an hour) never looks stale.
  const refresh = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // the lock was taken from us (removed by hand): release() reports nothing either
    }
  }, Math.max(1000, Math.floor(opts.staleMs / 4)));
  refresh.unref();
  return {
    path,
    owner,
    release() {
      clearInterval(refresh);
      if (readOwner(path)?.token === owner.token) rmSync(path, { force: true });
    },
  };
}

const DEFAULT_LOCK_WAIT_SECONDS = 600;
const DEFAULT_LOCK_STALE_SECONDS = 3600;

function waitSeconds(flag: string | undefined, configured: number | undefined): number {
  if (flag !== undefined) {
    const n = Number(flag);
    if (!Number.isFinite(n) || n < 0) throw new PatchlineError('EUSAGE', `--wait ${flag}: expected a number of seconds`, { input: flag });
    return n;
  }
  return configured ?? DEFAULT_LOCK_WAIT_SECONDS;
}

/**
 * The state lock every command that writes the state dir holds (each step alone, run, retry,
 * report --resend): a second one waits (`--wait`, run.lockWaitSeconds) or exits naming the holder.
 */
export function lockStateDir(loaded: LoadedConfig, opts: { wait?: string; command: string; log: Logger; who: string }): Promise<RunLock> {
  const run = loaded.config.run ?? {};
  return acquireRunLock(loaded.stateDir, {
    waitMs: waitSeconds(opts.wait, run.lockWaitSeconds) * 1000,
    staleMs: (run.lockStaleSeconds ?? DEFAULT_LOCK_STALE_SECONDS) * 1000,
    command: opts.command,
    onWait: (owner) => opts.log.info(`${opts.who}: waiting for the state dir ${loaded.stateDir}, in use by ${describeOwner(owner)}`),
    onTakeover: (owner, why) => opts.log.warn(`taking over a stale lock of ${describeOwner(owner)}: ${why}`),
  });
}
