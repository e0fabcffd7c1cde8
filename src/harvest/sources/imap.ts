/** The only module that talks IMAP (imapflow): incremental by UIDVALIDITY + last UID. */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { PatchlineError } from '../../core/errors.js';
import { readSecret } from '../../core/secrets.js';
import type { ImapSourceConfig } from '../../core/config-types.js';
import { readCursor, writeCursor } from '../state/cursors.js';
import type { MailSource, SourceMessage } from './source.js';

interface ImapCursor {
  uidValidity: string;
  lastUid: number;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

/** Plain IMAP would send the password in clear: only to a loopback host. */
function checkSecurity(config: ImapSourceConfig): void {
  if ((config.security ?? 'tls') === 'plain' && !LOOPBACK.test(config.host)) {
    throw new PatchlineError('ECONFIG', `sources.${config.name}.security: plain IMAP is only allowed on a loopback host, not ${config.host}: use tls or starttls`, { input: config.name });
  }
}

/** imapflow options for a source: tls (default), starttls (required), plain only on loopback. */
export function imapOptions(config: ImapSourceConfig, password: string): ImapFlowOptions {
  checkSecurity(config);
  const security = config.security ?? 'tls';
  return {
    host: config.host,
    port: config.port ?? (security === 'tls' ? 993 : 143),
    secure: security === 'tls',
    doSTARTTLS: security === 'starttls' ? true : security === 'plain' ? false : undefined,
    tls: { rejectUnauthorized: config.tlsRejectUnauthorized ?? true },
    auth: { user: config.user, pass: password },
    logger: false,
    disableAutoIdle: true,
    clientInfo: { name: 'patchline' },
  };
}

function imapError(config: ImapSourceConfig, err: unknown, doing: string): PatchlineError {
  if (err instanceof PatchlineError) return err;
  const e = err as { message?: string; responseText?: string; authenticationFailed?: boolean; code?: string };
  const why = e.authenticationFailed ? `login refused for user ${config.user}` : (e.responseText ?? e.code ?? e.message ?? String(err));
  return new PatchlineError('EIMAP', `${doing} ${config.host}:${config.port ?? ''} mailbox ${config.mailbox ?? 'INBOX'}: ${why}`, { input: config.name, cause: err });
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
    const client = new ImapFlow(imapOptions(this.config, password));
    client.on('error', () => undefined); // socket errors also reject the pending command, which reports them
    try {
      await client.connect();
    } catch (err) {
      throw imapError(this.config, err, 'cannot connect to');
    }
    this.client = client;
    return client;
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
    if (!client) return;
    try {
      await client.logout();
    } catch {
      client.close();
    }
  }

  describe() {
    return {
      ...(this.uidValidity === undefined ? {} : { uidValidity: this.uidValidity }),
      lastUid: this.lastUid,
      ...(this.rescanned ? { rescanned: true } : {}),
    };
  }
}
