/**
 * A real dovecot on 127.0.0.1 for tests and benchmarks: temp config, temp Maildir, a passwd-file
 * user, a free non-standard port, plaintext login (loopback only) and optionally implicit TLS with
 * a self-signed certificate.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

export interface Dovecot {
  host: string;
  /** Plain IMAP port (STARTTLS offered when started with tls). */
  port: number;
  /** Implicit-TLS IMAP port, when started with tls. */
  tlsPort?: number;
  user: string;
  password: string;
  dir: string;
  /** The user's Maildir (INBOX). */
  maildir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, logFile: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`dovecot exited (${child.exitCode}): ${readLog(logFile)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dovecot did not listen on ${port}: ${readLog(logFile)}`);
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
}

export async function startDovecot(opts: { tls?: boolean } = {}): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'patchline-dovecot-'));
  const me = userInfo();
  // dovecot never accesses mail as root: as root, mail belongs to the package's `dovecot` user
  const mailUid = me.uid === 0 ? Number(execFileSync('id', ['-u', 'dovecot']).toString()) : me.uid;
  const mailGid = me.uid === 0 ? Number(execFileSync('id', ['-g', 'dovecot']).toString()) : me.gid;
  const user = 'lists';
  const password = 'imap-test-pass';
  const maildir = join(dir, 'mail', user);
  mkdirSync(maildir, { recursive: true });
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'home'));
  for (const p of [join(dir, 'mail'), maildir, join(dir, 'home')]) chownSync(p, mailUid, mailGid);
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const logFile = join(dir, 'dovecot.log');
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}:${mailUid}:${mailGid}::${join(dir, 'home')}::userdb_mail=maildir:${maildir}\n`);
  const tlsLines: string[] = [];
  if (opts.tls) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tlsLines.push('ssl = yes', `ssl_cert = <${join(dir, 'cert.pem')}`, `ssl_key = <${join(dir, 'key.pem')}`);
  } else {
    tlsLines.push('ssl = no');
  }
  const conf = [
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `log_path = ${logFile}`,
    'protocols = imap',
    'listen = 127.0.0.1',
    // dovecot refuses to run its login processes as root: use the package's users then
    ...(me.uid === 0 ? [] : [`default_internal_user = ${me.username}`, `default_login_user = ${me.username}`, `default_internal_group = ${execFileSync('id', ['-gn']).toString().trim()}`]),
    `first_valid_uid = ${mailUid}`,
    `last_valid_uid = ${mailUid}`,
    'first_valid_gid = 0',
    'disable_plaintext_auth = no',
    'auth_mechanisms = plain login',
    ...tlsLines,
    `passdb {\n  driver = passwd-file\n  args = ${join(dir, 'passwd')}\n}`,
    `userdb {\n  driver = passwd-file\n  args = ${join(dir, 'passwd')}\n}`,
    `service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    address = 127.0.0.1\n    port = ${tlsPort ?? 0}\n    ssl = yes\n  }\n}`,
    'service stats {\n  unix_listener stats-reader {\n    mode = 0600\n  }\n  unix_listener stats-writer {\n    mode = 0600\n  }\n}',
    'mail_fsync = never',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'dovecot.conf'), conf);
  const child = spawn('/usr/sbin/dovecot', ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitForPort(port, child, logFile);
    if (tlsPort) await waitForPort(tlsPort, child, logFile);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message} ${stderr}`);
  }
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    user,
    password,
    dir,
    maildir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!process.env.KEEP_DOVECOT) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An imapflow client logged in to the test dovecot (plain, loopback). */
export async function imapClient(d: Dovecot): Promise<ImapFlow> {
  const client = new ImapFlow({ host: d.host, port: d.port, secure: false, doSTARTTLS: false, auth: { user: d.user, pass: d.password }, logger: false });
  await client.connect();
  return client;
}

/** LF files become CRLF on the wire, as a real MTA would deliver them. */
export function toCrlf(raw: Buffer): Buffer {
  return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/** IMAP APPEND each message (converted to CRLF) to `mailbox`, creating it when missing. */
export async function appendMessages(d: Dovecot, mailbox: string, messages: Buffer[]): Promise<void> {
  const client = await imapClient(d);
  try {
    if (mailbox !== 'INBOX') await client.mailboxCreate(mailbox).catch(() => undefined);
    for (const m of messages) await client.append(mailbox, toCrlf(m));
  } finally {
    await client.logout();
  }
}
