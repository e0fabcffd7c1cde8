import { createHash } from 'node:crypto';
import type { MessageHeaders } from './types.js';

/** The key of a message: its Message-ID, or `sha256:<hex>` of its bytes when it has none. */
export function messageKey(headers: MessageHeaders, raw: Buffer): string {
  return headers.messageId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}
