/**
 * The address a series' failure mail is copied to. It comes from mail (hostile): harvest took it
 * from From: with git's lenient rules (parseAuthor in harvest/mail/address.ts: `a@`, `a@b@c` and
 * `a,b@c` pass), so here only a plain addr-spec is used: a value holding two addresses, a display
 * name, quotes, a comment or a line break never reaches a To: header or RCPT TO.
 */
import type { SeriesOutcome } from './outcome.js';

/** RFC 5322 dot-atom local part @ a DNS name of at least two labels; no quoted local part, no address literal. */
const ADDR_SPEC = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** RFC 5321's limit on a path. */
const MAX_ADDRESS = 254;

/** `value` when it is one valid address and nothing else; undefined otherwise. */
export function singleAddress(value: string | undefined): string | undefined {
  return value !== undefined && value.length <= MAX_ADDRESS && ADDR_SPEC.test(value) ? value : undefined;
}

/**
 * The series' author: its submitter (who sent the series, and sends the next version), else the
 * author of the patch apply stopped at, else of its first patch; the first that is a valid address.
 */
export function authorAddress(o: SeriesOutcome): string | undefined {
  const failing = o.apply?.failure?.patch;
  const failingAuthor = failing ? o.series.patches.find((p) => p.messageId === failing.messageId)?.author.email : undefined;
  for (const candidate of [o.series.submitter?.email, failingAuthor, o.series.patches[0]?.author.email]) {
    const address = singleAddress(candidate);
    if (address) return address;
  }
  return undefined;
}
