import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../core/config-types.js';
import { PatchlineError } from '../core/errors.js';
import { describeProblem, smtpProblems } from '../core/config-checks.js';
import { readSecret } from '../core/secrets.js';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { SmtpSession } from './smtp-session.js';

/** The only module that talks SMTP: sends a prebuilt raw message with its envelope. */
export interface MailSender {
  /** Connect and log in now (no-op while connected): send() then only runs the mail's own transaction. */
  open(): Promise<void>;
  /** On the session open() made; a failure says by mayHaveBeenAccepted() whether the server may have the mail. */
  send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<string>;
  close(): void;
}

const DEFAULT_PORT = { tls: 465, starttls: 587, plain: 25 } as const;

export function smtpSender(cfg: SmtpConfig, baseDir: string): MailSender {
  const security = cfg.security ?? 'starttls';
  const [insecure] = smtpProblems(cfg); // the config check's rule, for an SmtpConfig not from loadConfig
  if (insecure) throw new PatchlineError('ECONFIG', describeProblem(insecure), { input: insecure.path });
  const auth = cfg.user && cfg.password ? { user: cfg.user, pass: readSecret(cfg.password, 'report.smtp.password', baseDir) } : undefined;
  const transport = nodemailer.createTransport({
    host: cfg.host,
    port: cfg.port ?? DEFAULT_PORT[security],
    secure: security === 'tls',
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'plain',
    ...(auth ? { auth } : {}),
    // a server that does not connect or greet by then is unreachable: the mails wait for the next run
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    // long enough for the server's answer to the end of a large DATA (content filters)
    socketTimeout: 60_000,
  });
  // the transport resolves the options and the login; the session uses them on its own connection
  const session = new SmtpSession(transport.transporter as SMTPTransport);
  return {
    open: () => session.open(),
    send: (raw, envelope) => session.send(raw, envelope),
    close() {
      session.close();
      transport.close();
    },
  };
}

/** Errors that mean the server is unreachable, so trying the next mail is pointless. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ECONNECTION' || code === 'ETIMEDOUT' || code === 'ESOCKET' || code === 'EDNS' || code === 'ETLS' || code === 'EAUTH';
}
