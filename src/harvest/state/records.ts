import type { OriginalRef } from './seen-store.js';
import type { Bucket, PersonResult, Route } from '../types.js';

/** What the seen-store keeps of every message ever harvested: enough to rebuild every series. */
export interface MessageRecord {
  /** Message-ID without <>, or sha256:<hex> of the raw bytes. */
  key: string;
  bucket: Bucket;
  reason?: string;
  /** Source and position it was first read from. */
  where: string;
  harvestedAt: string;
  subject: string;
  from?: PersonResult;
  /** The Date header, as an ISO UTC time. */
  date?: string;
  inReplyTo?: string;
  references?: string[];
  route?: Route;
  version?: number;
  number?: number;
  total?: number;
  /** patch and cover: what git mailinfo gives. */
  author?: PersonResult;
  authorDate?: string;
  commitSubject?: string;
  /** comment: the review trailers it gives (Reviewed-by, Acked-by, Tested-by). */
  trailers?: string[];
  /** patch and cover: where the original is stored. */
  original?: OriginalRef;
}
