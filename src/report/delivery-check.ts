/**
 * report.deliveryCheck: does a mailbox that receives the report mails (an imap source of
 * `sources:`, typically the list they go to) hold a given mail? Looked up by Message-ID, the one
 * key a mail keeps from the SMTP server to the mailbox. Settles the mails whose SMTP transaction
 * was cut off (docs/decisions/mail-exactly-once.md).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapFlow } from 'imapflow';
import type { Config, ImapSourceConfig } from '../core/config-types.js';
import { PatchlineError } from '../core/errors.js';
import { readSecret } from '../core/secrets.js';

/** imapflow takes a third of a second to load: only when a mail is in doubt and a check is configured. */
let imapModule: typeof import('../harvest/sources/imap.js') | undefined;
async function imap(): Promise<typeof import('../harvest/sources/imap.js')> {
  imapModule ??= await import('../harvest/sources/imap.js');
  return imapModule;
}

export interface DeliveryCheck {
  /** The source's name (recorded with what it found). */
  readonly source: string;
  /** How long after its attempt a mail the server took may need to show up in the mailbox. */
  readonly waitMs: number;
  /** The address whose mail lands in the mailbox, when the config names it. */
  readonly address?: string;
  /** Whether a mail to these recipients reaches the mailbox (every mail, without an address). */
  covers(recipients: readonly string[]): boolean;
  /** The Message-IDs among `ids` that the mailbox holds, looking again for the missing ones until `until`. */
  find(ids: readonly string[], until: Date): Promise<Set<string>>;
  close(): Promise<void>;
}

export const DEFAULT_WAIT_SECONDS = 120;
const POLL_MS = 2000;

/** The check named by report.deliveryCheck, or undefined without one. Connects only when asked. */
export function deliveryCheckFor(config: Config, baseDir: string): DeliveryCheck | undefined {
  const wanted = config.report?.deliveryCheck;
  if (!wanted) return undefined;
  const source = config.sources.find((s) => s.name === wanted.source);
  if (source?.type !== 'imap') {
    const imap = config.sources.filter((s) => s.type === 'imap').map((s) => s.name);
    throw new PatchlineError('ECONFIG', `report.deliveryCheck.source: "${wanted.source}" is not an imap source (imap sources: ${imap.join(', ') || 'none'})`, { input: 'report.deliveryCheck.source' });
  }
  return new ImapDeliveryCheck(source, baseDir, (wanted.waitSeconds ?? DEFAULT_WAIT_SECONDS) * 1000, wanted.address);
}

/** `<a@b>` and `a@b` are the same id. */
const bare = (id: string | undefined): string => (id ?? '').trim().replace(/^<|>$/g, '');

class ImapDeliveryCheck implements DeliveryCheck {
  private client?: ImapFlow;

  constructor(
    private readonly config: ImapSourceConfig,
    private readonly baseDir: string,
    readonly waitMs: number,
    readonly address?: string,
  ) {}

  covers(recipients: readonly string[]): boolean {
    const address = this.address?.toLowerCase();
    return address === undefined || recipients.some((r) => r.toLowerCase() === address);
  }

  get source(): string {
    return this.config.name;
  }

  async find(ids: readonly string[], until: Date): Promise<Set<string>> {
    const found = new Set<string>();
    for (;;) {
      for (const id of await this.held(ids.filter((i) => !found.has(i)))) found.add(id);
      const left = until.getTime() - Date.now();
      if (found.size === ids.length || left <= 0) return found;
      await sleep(Math.min(POLL_MS, left));
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await (await imap()).closeImap(client);
  }

  private async held(ids: readonly string[]): Promise<string[]> {
    const client = await this.connect();
    try {
      const lock = await client.getMailboxLock(this.config.mailbox ?? 'INBOX', { readOnly: true });
      try {
        const out: string[] = [];
        for (const id of ids) {
          const uids = (await client.search({ header: { 'message-id': id } }, { uid: true })) || [];
          if (uids.length === 0) continue;
          // SEARCH HEADER matches a substring: compare the whole id
          const msgs = await client.fetchAll(uids, { envelope: true }, { uid: true });
          if (msgs.some((m) => bare(m.envelope?.messageId) === bare(id))) out.push(id);
        }
        return out;
      } finally {
        lock.release();
      }
    } catch (err) {
      throw this.error(err, 'search failed on');
    }
  }

  private async connect(): Promise<ImapFlow> {
    if (this.client) return this.client;
    const password = readSecret(this.config.password, `sources.${this.config.name}.password`, this.baseDir);
    let client: ImapFlow;
    try {
      client = await (await imap()).openImap(this.config, password); // closes its socket when the login fails: a refused login must not keep the process alive
    } catch (err) {
      throw this.error(err, 'cannot connect to');
    }
    this.client = client;
    return client;
  }

  private error(err: unknown, doing: string): PatchlineError {
    if (err instanceof PatchlineError) return err;
    const why = imapModule ? imapModule.describeImapFailure(this.config, err) : String((err as Error).message ?? err);
    const where = `${this.config.host}:${this.config.port ?? ''} mailbox ${this.config.mailbox ?? 'INBOX'}`;
    return new PatchlineError('EIMAP', `report.deliveryCheck: ${doing} ${where} (source ${this.config.name}): ${why}`, { input: this.config.name, cause: err });
  }
}
