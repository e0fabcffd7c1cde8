/** `patchline check --connect`: log in to the IMAP sources (their mailbox opened read-only) and the SMTP server. */
import type { LoadedConfig } from '../core/config.js';
import type { ImapSourceConfig } from '../core/config-types.js';
import { readSecret } from '../core/secrets.js';
import { closeImap, describeImapFailure, openImap } from '../harvest/sources/imap.js';
import { smtpSender } from '../report/smtp.js';
import { reason, type CheckProblem } from './problem.js';

async function imapProblem(loaded: LoadedConfig, source: ImapSourceConfig, where: string): Promise<CheckProblem | undefined> {
  let password: string;
  try {
    password = readSecret(source.password, `${where}.password`, loaded.baseDir);
  } catch {
    return undefined; // the secrets check says so already
  }
  const mailbox = source.mailbox ?? 'INBOX';
  try {
    const client = await openImap(source, password);
    try {
      await client.mailboxOpen(mailbox, { readOnly: true });
    } finally {
      await closeImap(client);
    }
    return undefined;
  } catch (err) {
    return { where, message: `${source.host} mailbox ${mailbox}: ${describeImapFailure(source, err)}` };
  }
}

async function smtpProblem(loaded: LoadedConfig): Promise<CheckProblem | undefined> {
  const smtp = loaded.config.report?.smtp;
  if (!smtp) return undefined;
  let sender;
  try {
    sender = smtpSender(smtp, loaded.baseDir);
  } catch {
    return undefined; // an unreadable password: the secrets check says so already
  }
  try {
    await sender.open();
    return undefined;
  } catch (err) {
    return { where: 'report.smtp', message: `${smtp.host}: ${reason(err)}` };
  } finally {
    sender.close();
  }
}

export async function connectProblems(loaded: LoadedConfig): Promise<CheckProblem[]> {
  const checks = [
    ...loaded.config.sources.flatMap((s, i) => (s.type === 'imap' ? [imapProblem(loaded, s, `sources.${i}`)] : [])),
    smtpProblem(loaded),
  ];
  return (await Promise.all(checks)).filter((p): p is CheckProblem => p !== undefined);
}
