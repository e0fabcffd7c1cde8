/**
 * `patchline inspect`: what the harvest makes of each message of a file, as JSON — the answer
 * to "why did my mail not get applied?", and the patchline counterpart of `git mailinfo`.
 */
import type { Config } from '../core/config-types.js';
import { classifyMessage, NO_CONFIG_REASON } from './classify.js';
import { parseMessage } from './mail/extract.js';
import { messageKey } from './mail/message-key.js';
import { splitMbox } from './mail/mbox.js';
import { reviewTrailers } from './route.js';
import type { Bucket, Route } from './types.js';

export interface InspectOptions {
  /** Without a config the route is taken from the tag and reported as not checked. */
  config?: Config;
  subjectPattern?: RegExp;
  scissors?: boolean;
}

export interface InspectReport {
  /** 1-based position in the file. */
  index: number;
  /** Message-ID, or `sha256:<hex>` of the message when it has none (as the harvest keys it). */
  messageId: string;
  /** What the harvest would do: duplicates are only known to the harvest, so never reported here. */
  bucket: Exclude<Bucket, 'duplicate'>;
  reason: string | null;
  route: Route | null;
  series: { branch: string | null; repo: string | null; version: number; number: number | null; total: number | null } | null;
  subject: string;
  from: string | null;
  date: string | null;
  inReplyTo: string | null;
  /** Review trailers this message gives (collected onto the patches a reply answers). */
  reviewTrailers: string[];
  unusable: string | null;
  warnings: string[];
  extraction: { author: { name: string; email: string }; date: string | null; subject: string; body: string; diff: string };
}

/** Inspect one message (raw bytes). Never throws. */
export function inspectMessage(raw: Buffer, index: number, opts: InspectOptions = {}): InspectReport {
  const parsed = parseMessage(raw, { subjectPattern: opts.subjectPattern, scissors: opts.scissors });
  const { headers, extraction: e } = parsed;
  const c = classifyMessage(headers, e, { config: opts.config, unusable: parsed.unusable });
  const tag = c.tag ?? headers.tag;
  const reason = c.reason ?? (opts.config === undefined && c.route !== undefined ? NO_CONFIG_REASON : null);
  return {
    index,
    messageId: messageKey(headers, raw),
    bucket: c.bucket,
    reason,
    route: c.route ?? null,
    series: tag ? { branch: tag.branch ?? null, repo: tag.repo ?? null, version: tag.version, number: tag.number ?? null, total: tag.total ?? null } : null,
    subject: headers.subject,
    from: headers.from ? `${headers.from.name} <${headers.from.email}>` : null,
    date: headers.date?.toISOString() ?? null,
    inReplyTo: headers.inReplyTo ?? null,
    reviewTrailers: headers.isReply ? reviewTrailers(e) : [],
    unusable: parsed.unusable ?? null,
    warnings: headers.warnings,
    extraction: { author: e.author, date: e.date ?? null, subject: e.subject, body: e.body, diff: e.diff },
  };
}

/** Inspect every message of an .eml or an mbox. */
export function inspectFile(buf: Buffer, opts: InspectOptions = {}): InspectReport[] {
  return splitMbox(buf).map((raw, i) => inspectMessage(raw, i + 1, opts));
}
