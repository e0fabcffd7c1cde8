/**
 * A generated patchline project in a temp dir, every component real and on loopback: a bare git
 * remote seeded from examples/demo/hello with branches main and stable, two local platforms
 * (rpmbuild), a publish dir, an SMTP server recording what the report sends, and a mail source
 * (an mbox, or a dovecot mailbox) holding the workload.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Config } from '../../../src/core/config-types.js';
import { DEMO_SOURCE, seedRemote } from '../../../src/run/demo.js';
import { appendMessages, startDovecot, type Dovecot } from '../../support/dovecot.js';
import { imapOutage, type ImapOutage } from './imap-outage.js';
import { startMailRecorder, type MailRecorder } from './mail-recorder.js';
import { runPatchline, type PatchlineRun, type RunControl } from './spawn.js';
import { makeWorkload, paddingMails, type Workload } from './workload.js';

export const BRANCHES = ['main', 'stable'] as const;
export const PLATFORMS = ['el-a', 'el-b'] as const;

export interface ProjectOptions {
  /** Distinct series in the mail (default 6). */
  series?: number;
  /** The mail source: an mbox file (default), or a dovecot mailbox padded with `padding` plain mails. */
  source?: 'mbox' | 'imap';
  padding?: number;
  /** Size of each padding mail (default 4 KiB). */
  paddingBytes?: number;
  /**
   * The list's mailbox (the IMAP source) also receives the report mails sent to the list, put
   * there before the SMTP server answers, and report.deliveryCheck looks there: the setup under
   * which a mail cut off mid-transaction is neither lost nor sent twice. Needs source imap.
   */
  deliveryCheck?: boolean;
  /** Changes to the config before it is written (e.g. a bad pushPattern). */
  tweak?: (config: Config) => void;
}

export interface Project {
  dir: string;
  config: string;
  stateDir: string;
  remote: string;
  publishDir: string;
  /** One line per rpmbuild that ran to its end: `<exit code>\t<args>` (the shim on patchline's PATH writes it). */
  rpmbuildLog: string;
  smtp: MailRecorder;
  dovecot?: Dovecot;
  /** With an IMAP source: kill and restart its dovecot. */
  imap?: ImapOutage;
  workload: Workload;
  /** `patchline <args> --config <this project's config>`. */
  run(args?: string[], control?: RunControl): Promise<PatchlineRun>;
  /** Write the config again, with `tweak` applied (or none). */
  writeConfig(tweak?: (config: Config) => void): void;
  /** Stop the servers and remove the dir (unless KEEP_RESUME_PROJECTS is set). */
  dispose(): Promise<void>;
}

/** The workload is the same for every project (the seeded remote is): made once per worker. */
const workloads = new Map<number, Promise<Workload>>();

async function workloadFor(count: number): Promise<Workload> {
  if (!workloads.has(count)) {
    workloads.set(
      count,
      (async () => {
        const dir = mkdtempSync(join(tmpdir(), 'pl-harness-seed-'));
        try {
          await seedRemote(join(dir, 'hello.git'), join(DEMO_SOURCE, 'hello'), [...BRANCHES]);
          return await makeWorkload(join(dir, 'hello.git'), count);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })(),
    );
  }
  return workloads.get(count)!;
}

const LIST = 'hello-devel@lists.example.org';

function baseConfig(smtpPort: number, source: Config['sources'][number], deliveryCheck: boolean): Config {
  return {
    stateDir: 'state',
    sources: [source],
    repos: {
      hello: {
        url: 'remotes/hello.git',
        branches: [...BRANCHES],
        build: { spec: 'hello.spec' },
        report: { recipients: [LIST] },
      },
    },
    // the workload's senders are trusted (the sender policy has its own tests); the gate is the default
    apply: { committer: { name: 'patchline', email: 'patchline@example.org' }, trustedSenders: ['@example.org', '@example.com', '@example.net'] },
    platforms: [
      { name: PLATFORMS[0], builder: 'local' },
      { name: PLATFORMS[1], builder: 'local', dist: '.elb' },
    ],
    publish: { destination: 'publish' },
    report: {
      recipients: ['maintainers@example.org'],
      smtp: { host: '127.0.0.1', port: smtpPort, security: 'plain', from: 'patchline <patchline@example.org>' },
      // the mail is in the mailbox before the server's 250: a short wait is exact
      ...(deliveryCheck ? { deliveryCheck: { source: source.name, address: LIST, waitSeconds: 2 } } : {}),
    },
    // a killed run leaves its lock: the next one takes it over (dead pid) instead of waiting
    run: { lockWaitSeconds: 120 },
  };
}

/**
 * An rpmbuild in front of the real one on patchline's PATH, logging every invocation that ran to
 * its end: how many times a series was really built, seen from outside patchline.
 */
function rpmbuildShim(dir: string): { bin: string; log: string } {
  const real = spawnSync('sh', ['-c', 'command -v rpmbuild'], { encoding: 'utf8' }).stdout.trim();
  if (!real) throw new Error('rpmbuild is not installed');
  const bin = join(dir, 'bin');
  const log = join(dir, 'rpmbuild.log');
  mkdirSync(bin);
  writeFileSync(log, '');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(join(bin, 'rpmbuild'), `#!/bin/sh\n${quote(real)} "$@"\nrc=$?\nprintf '%s\\t%s\\n' "$rc" "$*" >> ${quote(log)}\nexit $rc\n`);
  chmodSync(join(bin, 'rpmbuild'), 0o755);
  return { bin, log };
}

export async function makeProject(opts: ProjectOptions = {}): Promise<Project> {
  const workload = await workloadFor(opts.series ?? 6);
  const dir = mkdtempSync(join(tmpdir(), 'pl-harness-'));
  const remote = join(dir, 'remotes', 'hello.git');
  await seedRemote(remote, join(DEMO_SOURCE, 'hello'), [...BRANCHES]);
  const shim = rpmbuildShim(dir);
  if (opts.deliveryCheck && opts.source !== 'imap') throw new Error('deliveryCheck needs source: imap (the list mailbox it looks in)');
  let dovecot: Dovecot | undefined;
  const smtp = await startMailRecorder(opts.deliveryCheck ? (raw, to) => (to.includes(LIST) ? appendMessages(dovecot!, 'INBOX', [raw]) : Promise.resolve()) : undefined);
  let imap: ImapOutage | undefined;
  let source: Config['sources'][number];
  if (opts.source === 'imap') {
    dovecot = await startDovecot();
    imap = imapOutage(dovecot);
    const pad = paddingMails(opts.padding ?? 0, opts.paddingBytes);
    // the padding first: the fetch is under way well before the patches come
    await appendMessages(dovecot, 'INBOX', [...pad, ...workload.messages]);
    writeFileSync(join(dir, 'imap-password'), `${dovecot.password}\n`, { mode: 0o600 });
    source = { type: 'imap', name: 'hello-devel', host: dovecot.host, port: dovecot.port, security: 'plain', user: dovecot.user, password: { file: 'imap-password' } };
  } else {
    mkdirSync(join(dir, 'mail'));
    writeFileSync(join(dir, 'mail', 'hello-devel.mbox'), workload.mbox);
    source = { type: 'mbox', name: 'hello-devel', path: 'mail/hello-devel.mbox' };
  }
  const config = join(dir, 'patchline.yaml');
  const writeConfig = (tweak?: (c: Config) => void) => {
    const c = baseConfig(smtp.port, source, opts.deliveryCheck === true);
    tweak?.(c);
    writeFileSync(config, stringify(c));
  };
  writeConfig(opts.tweak);
  mkdirSync(join(dir, 'publish'));
  return {
    dir,
    config,
    stateDir: join(dir, 'state'),
    remote,
    publishDir: join(dir, 'publish'),
    rpmbuildLog: shim.log,
    smtp,
    dovecot,
    imap,
    workload,
    run: (args = ['run'], control) => runPatchline({ config }, args, { ...control, env: { PATH: `${shim.bin}:${process.env.PATH ?? ''}`, ...control?.env } }),
    writeConfig,
    async dispose() {
      await smtp.stop();
      await imap?.stop();
      // a killed dovecot's handle would wait for an exit that already happened: remove its dir here
      if (imap?.killed) rmSync(dovecot!.dir, { recursive: true, force: true });
      else await dovecot?.stop();
      if (!process.env.KEEP_RESUME_PROJECTS) rmSync(dir, { recursive: true, force: true });
    },
  };
}
