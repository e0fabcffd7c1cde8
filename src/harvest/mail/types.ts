/**
 * The contract between mail parsing (src/harvest/mail/) and the harvest pipeline
 * (src/harvest/*.ts). Parsing is pure: bytes in, facts out, never throws on bad input.
 */

export interface Person {
  name: string;
  email: string;
}

/** What the subject's bracket tag says, e.g. `[stable-2.1 PATCH v2 3/7 libvirt]`. */
export interface SubjectTag {
  /** Branch and repo words as written (not yet checked against the config or git's ref rules). */
  branch?: string;
  repo?: string;
  /** 1 when no vN. */
  version: number;
  /** 0 = cover letter; undefined when no n/m (a single patch). */
  number?: number;
  total?: number;
  /** The whole tag group, as written, e.g. `master PATCH nbdkit v2 3/4`. */
  raw: string;
}

/** Cheap facts from the headers alone (enough to classify most mail without a full parse). */
export interface MessageHeaders {
  /** Message-ID without <>; undefined when the message has none. */
  messageId?: string;
  /** Subject decoded (RFC 2047) and unfolded. */
  subject: string;
  from?: Person;
  /** The Date header as written, and parsed (undefined when missing or unparseable). */
  dateHeader?: string;
  date?: Date;
  /** The Date header (cut at 80 chars) when git cannot read it, or it falls outside 1970-2099. */
  dateUnreadable?: string;
  inReplyTo?: string;
  /** References, oldest first, without <>. */
  references: string[];
  /** `Re:`/`RE:`/`AW:`/`Fwd:`... at the start of the subject. */
  isReply: boolean;
  /** `[GIT PULL]` in the subject. */
  isPullRequest: boolean;
  /** The tag when the subject carries one (subject grammar of DESIGN.md or the source's regex). */
  tag?: SubjectTag;
  /** `[PATCH ...]` seen at all (tagged or not). */
  looksLikePatch: boolean;
  /** Problems that did not stop parsing (raw 8-bit header, duplicate header, ...). */
  warnings: string[];
}

/** What `git mailinfo` gives for a message: author, date, subject, message, patch. */
export interface Extraction {
  author: Person;
  /** The author date as git am will record it (RFC 2822 string from Date: or in-body Date:). */
  date?: string;
  /** Commit subject, cleaned as mailinfo does (no `Re:`, no `[...]` prefix, unfolded). */
  subject: string;
  /** Commit message body (after the subject), without the `---` and the diff. UTF-8. */
  body: string;
  /** The patch part: everything git apply needs (diff --git ... including binary hunks). Empty when none. */
  diff: string;
  /** Set when the patch bytes are not valid UTF-8: `diff` then holds one char per byte (write it with renderPatchBytes). */
  diffEncoding?: 'latin1';
  /** Trailers found in the body (Reviewed-by, Acked-by, Tested-by, Signed-off-by, ...). */
  trailers: string[];
  /** The body of a pull request mail names a base commit ("The following changes since commit ..."). */
  pullRequest: boolean;
  /**
   * Set when git mailinfo stops reading the body (text in a charset it cannot convert): body and
   * diff hold only what came before, and git am would refuse the mail. One line.
   */
  undecodable?: string;
}

/** Full parse result. */
export interface ParsedMessage {
  headers: MessageHeaders;
  extraction: Extraction;
  /** Set when the message cannot be used at all (malformed beyond repair, NUL bytes in the patch...). One line. */
  unusable?: string;
}
