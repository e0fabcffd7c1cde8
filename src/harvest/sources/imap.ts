/** The only module that talks IMAP (imapflow): incremental by UIDVALIDITY + last UID. */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { describeProblem, imapSecurityProblem } from '../../core/config-checks.js';
import { PatchlineError } from '../../core/errors.js';
import { readSecret } from '../../core/secrets.js';
import type { ImapSourceConfig } from '../../core/config-types.js';
import { readCursor, writeCursor } from '../state/cursors.js';
import type { MailSource, SourceMessage } from './source.js';

interface ImapCursor {
  uidValidity: string;
  lastUid: number;
}

/** Connect plus greeting: a reachable server answers in well under this. */
const CONNECT_TIMEOUT_MS = 10_000;
/** A server silent this long mid-command is gone (a SELECT of a large mailbox answers well within). */
const SOCKET_TIMEOUT_MS = 60_000;
/** LOGOUT is a courtesy: a server that does not answer it promptly is dropped. */
const LOGOUT_TIMEOUT_MS = 2_000;

/** Plain IMAP would send the password in clear: only to a loopback host (the config check's rule, for a source not from loadConfig). */
function checkSecurity(config: ImapSourceConfig): void {
  const problem = imapSecurityProblem(config);
  if (problem) throw new PatchlineError('ECONFIG', describeProblem(problem), { input: config.name });
}

function portOf(config: ImapSourceConfig): number {
  return config.port ?? ((config.security ?? 'tls') === 'tls' ? 993 : 143);
}

/** imapflow options for a source: tls (default), starttls (required), plain only on loopback. */
export function imapOptions(config: ImapSourceConfig, password: string): ImapFlowOptions {
  checkSecurity(config);
  const security = config.security ?? 'tls';
  return {
    host: config.host,
    port: portOf(config),
    secure: security === 'tls',
    doSTARTTLS: security === 'starttls' ? true : security === 'plain' ? false : undefined,
    tls: { rejectUnauthorized: config.tlsRejectUnauthorized ?? true },
    auth: { user: config.user, pass: password },
    logger: false,
    disableAutoIdle: true,
    clientInfo: { name: 'patchline' },
    // imapflow waits 90 s for a connection and 5 min for a silent socket: a step must fail sooner
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
  };
}

/** What went wrong, in words, with imapflow's or the socket's code (never the password: imapflow's messages do not carry it). */
export function describeImapFailure(config: ImapSourceConfig, err: unknown): string {
  const e = err as { message?: string; responseText?: string; authenticationFailed?: boolean; code?: string };
  if (e.authenticationFailed) return `login refused for user ${config.user}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED)';
    case 'CONNECT_TIMEOUT':
    case 'GREETING_TIMEOUT':
      return `no answer within ${CONNECT_TIMEOUT_MS / 1000} s (${e.code})`;
    case 'ETIMEOUT':
      return `the server went silent for ${SOCKET_TIMEOUT_MS / 1000} s (ETIMEOUT)`;
    case 'NoConnection':
    case 'ECONNRESET':
    case 'EPIPE':
      return `the connection was lost (${e.code})`;
  }
  return e.responseText ?? e.code ?? e.message ?? String(err);
}

function imapError(config: ImapSourceConfig, err: unknown, doing: string): PatchlineError {
  if (err instanceof PatchlineError) return err;
  return new PatchlineError('EIMAP', `${doing} ${config.host}:${portOf(config)} mailbox ${config.mailbox ?? 'INBOX'}: ${describeImapFailure(config, err)}`, { input: config.name, cause: err });
}

/**
 * Connect and log in; on failure nothing is left open. (imapflow leaves the socket of a refused
 * login open, the server waiting for another try: that kept the process alive for minutes.)
 */
export async function openImap(config: ImapSourceConfig, password: string): Promise<ImapFlow> {
  const client = new ImapFlow(imapOptions(config, password));
  client.on('error', () => undefined); // socket errors also reject the pending command, which reports them
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

/** LOGOUT, waiting for it briefly; the socket is closed either way. */
export async function closeImap(client: ImapFlow): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.logout(), new Promise((resolve) => (timer = setTimeout(resolve, LOGOUT_TIMEOUT_MS)))]);
  } catch {
    // the connection is gone already: nothing to log out of
  } finally {
    clearTimeout(timer);
    client.close(); // idempotent; drops a socket LOGOUT did not end
  }
}

export class ImapSource implements MailSource {
  readonly type = 'imap' as const;
  readonly name: string;
  private client?: ImapFlow;
  private cursor?: ImapCursor;
  private uidValidity?: string;
  private uidNext = 0;
  private lastUid = 0;
  private rescanned = false;

  constructor(
    private readonly config: ImapSourceConfig,
    private readonly stateDir: string,
    private readonly baseDir: string,
  ) {
    checkSecurity(config);
    this.name = config.name;
  }

  private get mailbox(): string {
    return this.config.mailbox ?? 'INBOX';
  }

  private async connect(): Promise<ImapFlow> {
    if (this.client) return this.client;
    const password = readSecret(this.config.password, `sources.${this.name}.password`, this.baseDir);
    try {
      this.client = await openImap(this.config, password);
    } catch (err) {
      throw imapError(this.config, err, 'cannot connect to');
    }
    return this.client;
  }

  async hasNews(): Promise<boolean> {
    const client = await this.connect();
    this.cursor = readCursor<ImapCursor>(this.stateDir, this.name);
    let status;
    try {
      status = await client.status(this.mailbox, { uidNext: true, uidValidity: true });
    } catch (err) {
      throw imapError(this.config, err, 'STATUS failed on');
    }
    if (!status || status.uidValidity === undefined) throw imapError(this.config, new Error('no UIDVALIDITY in STATUS'), 'STATUS failed on');
    this.uidValidity = status.uidValidity.toString();
    this.uidNext = status.uidNext ?? 0;
    this.rescanned = this.cursor !== undefined && this.cursor.uidValidity !== this.uidValidity;
    this.lastUid = this.cursor && !this.rescanned ? this.cursor.lastUid : 0;
    return this.uidNext === 0 || this.uidNext - 1 > this.lastUid;
  }

  async *messages(): AsyncIterable<SourceMessage> {
    const client = await this.connect();
    let lock;
    try {
      lock = await client.getMailboxLock(this.mailbox, { readOnly: true });
    } catch (err) {
      throw imapError(this.config, err, 'cannot open');
    }
    try {
      const opened = client.mailbox;
      if (opened && opened.uidValidity.toString() !== this.uidValidity) {
        // UIDVALIDITY changed between STATUS and SELECT: start over from the first UID
        this.uidValidity = opened.uidValidity.toString();
        this.rescanned = this.cursor !== undefined;
        this.lastUid = 0;
      }
      if (opened && opened.exists === 0) return;
      const from = this.lastUid + 1;
      try {
        for await (const msg of client.fetch(`${from}:*`, { uid: true, source: true }, { uid: true })) {
          // `N:*` also returns the newest message when N is past the end
          if (msg.uid < from || !msg.source) continue;
          yield { raw: msg.source, where: `${this.name}:uid ${msg.uid}` };
          if (msg.uid > this.lastUid) this.lastUid = msg.uid;
        }
      } catch (err) {
        throw imapError(this.config, err, 'FETCH failed on');
      }
    } finally {
      lock.release();
    }
  }

  commit(): void {
    if (this.uidValidity === undefined) return;
    writeCursor(this.stateDir, this.name, { uidValidity: this.uidValidity, lastUid: this.lastUid } satisfies ImapCursor);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await closeImap(client);
  }

  describe() {
    return {
      ...(this.uidValidity === undefined ? {} : { uidValidity: this.uidValidity }),
      lastUid: this.lastUid,
      ...(this.rescanned ? { rescanned: true } : {}),
    };
  }
}
