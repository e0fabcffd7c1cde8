import type { SourceResult } from '../types.js';

/** One raw message as a source delivers it, and where it came from (for harvest.json). */
export interface SourceMessage {
  raw: Buffer;
  /** `<source>:uid 17`, `<source>:#3`, `<source>:cur/1700000000.M1P2.host` */
  where: string;
}

/** A mail source: yields the messages it has not delivered before (per its cursor). */
export interface MailSource {
  readonly name: string;
  readonly type: SourceResult['type'];
  /** Cheap look (IMAP STATUS, file stat, directory listing): is there anything new to read? */
  hasNews(): Promise<boolean>;
  messages(): AsyncIterable<SourceMessage>;
  /** Persist the position reached. Call only once the archive and the seen-store are on disk. */
  commit(): void;
  close(): Promise<void>;
  /** uidValidity, lastUid, rescanned: what harvest.json reports about the source. */
  describe(): Omit<SourceResult, 'name' | 'type' | 'seen' | 'error'>;
}
