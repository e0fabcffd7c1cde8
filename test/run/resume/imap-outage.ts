/**
 * An IMAP outage on the test dovecot (test/support/dovecot.ts): kill -9 of its master and every
 * process under it (the imap session serving a fetch included), then a restart on the same
 * config, port and Maildir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Dovecot } from '../../support/dovecot.js';

/** The direct children of a process (every thread's list, from /proc). */
function children(pid: number): number[] {
  try {
    return readdirSync(join('/proc', String(pid), 'task')).flatMap((tid) =>
      readFileSync(join('/proc', String(pid), 'task', tid, 'children'), 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return []; // exited meanwhile
  }
}

function descendants(root: number): number[] {
  const out: number[] = [];
  for (const c of children(root)) out.push(c, ...descendants(c));
  return out;
}

const commandOf = (pid: number): string => {
  try {
    return readFileSync(join('/proc', String(pid), 'comm'), 'utf8').trim();
  } catch {
    return '';
  }
};

function masterPid(d: Dovecot): number {
  return Number(readFileSync(join(d.dir, 'run', 'master.pid'), 'utf8').trim());
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export interface ImapOutage {
  /** kill() was called: the Dovecot handle's own stop() would wait for an exit that already happened. */
  readonly killed: boolean;
  /** Whether an imap session process (a logged-in client) is running now. */
  sessionOpen(): boolean;
  /** kill -9 of dovecot and all its processes, by pid. */
  kill(): void;
  /** Start dovecot again on the same config (and port); resolves once it listens. */
  restart(): Promise<void>;
  /** Stop a restarted dovecot (before Dovecot.stop() removes its dir). */
  stop(): Promise<void>;
}

export function imapOutage(d: Dovecot): ImapOutage {
  let restarted: ChildProcess | undefined;
  let killed = false;
  return {
    get killed() {
      return killed;
    },
    sessionOpen() {
      return descendants(masterPid(d)).some((pid) => commandOf(pid) === 'imap');
    },
    kill() {
      killed = true;
      const master = masterPid(d);
      for (const pid of [master, ...descendants(master)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
    async restart() {
      const child = spawn('/usr/sbin/dovecot', ['-F', '-c', join(d.dir, 'dovecot.conf')], { stdio: 'ignore' });
      restarted = child;
      for (let i = 0; i < 200; i++) {
        if (child.exitCode !== null) throw new Error(`dovecot did not restart (exit ${child.exitCode}): see ${join(d.dir, 'dovecot.log')}`);
        if (await listening(d.port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the restarted dovecot does not listen on ${d.port}`);
    },
    async stop() {
      const child = restarted;
      restarted = undefined;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
