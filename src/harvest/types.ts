/** harvest.json (resources/schemas/harvest.schema.json) */

export type Bucket = 'patch' | 'cover' | 'comment' | 'pull-request' | 'other' | 'duplicate' | 'unroutable' | 'quarantined';
export const BUCKETS: readonly Bucket[] = ['patch', 'cover', 'comment', 'pull-request', 'other', 'duplicate', 'unroutable', 'quarantined'];

export interface PersonResult {
  name: string;
  email: string;
}

export interface Route {
  repo: string;
  branch: string;
}

export interface ErrorResult {
  code: string;
  message: string;
  input?: string;
}

export interface SourceResult {
  name: string;
  type: 'imap' | 'mbox' | 'maildir';
  seen: number;
  uidValidity?: string;
  lastUid?: number;
  rescanned?: boolean;
  /** mbox: bytes of text before the first `From ` line, not a message. */
  skippedBytes?: number;
  error?: ErrorResult;
}

export interface MessageResult {
  messageId: string;
  bucket: Bucket;
  reason?: string;
  seriesId?: string;
  source: string;
  subject: string;
  from?: string;
  date?: string;
  route?: Route;
  version?: number;
  number?: number;
  total?: number;
  inReplyTo?: string;
  trailers?: string[];
  archived?: string;
}

export interface PatchResult {
  number: number;
  messageId: string;
  file: string;
  eml?: string;
  author: PersonResult;
  date?: string;
  subject: string;
  trailers: string[];
}

export type SeriesStatus = 'ready' | 'incomplete' | 'superseded';

export interface SeriesResult {
  id: string;
  repo: string;
  branch: string;
  version: number;
  total: number;
  status: SeriesStatus;
  subject?: string;
  submitter?: PersonResult;
  coverMessageId?: string;
  archiveDir?: string;
  missing?: number[];
  /** Parts numbered past the total (`[PATCH 3/2]`): kept, in number order, after the others. */
  beyondTotal?: number[];
  supersededBy?: string;
  firstArrival?: string;
  patches: PatchResult[];
}

export type Counts = Record<Bucket, number> & { seen: number };

export interface HarvestResult {
  runId: string;
  startedAt: string;
  finishedAt: string;
  sources: SourceResult[];
  messages: MessageResult[];
  series: SeriesResult[];
  counts: Counts;
}
