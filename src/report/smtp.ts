import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../core/config-types.js';
import { PatchlineError } from '../core/errors.js';
import { readSecret } from '../core/secrets.js';

/** The only module that talks SMTP: sends a prebuilt raw message with its envelope. */
export interface MailSender {
  send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<string>;
  close(): void;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
const DEFAULT_PORT = { tls: 465, starttls: 587, plain: 25 } as const;

export function smtpSender(cfg: SmtpConfig, baseDir: string): MailSender {
  const security = cfg.security ?? 'starttls';
  if (security === 'plain' && !LOOPBACK.test(cfg.host)) {
    throw new PatchlineError('ECONFIG', `report.smtp.security plain (no TLS) is only allowed to a loopback host, not ${cfg.host}`, { input: 'report.smtp.security' });
  }
  const auth = cfg.user && cfg.password ? { user: cfg.user, pass: readSecret(cfg.password, 'report.smtp.password', baseDir) } : undefined;
  const transport = nodemailer.createTransport({
    host: cfg.host,
    port: cfg.port ?? DEFAULT_PORT[security],
    secure: security === 'tls',
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'plain',
    ...(auth ? { auth } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
  return {
    async send(raw, envelope) {
      const info = await transport.sendMail({ envelope, raw });
      return String(info.response ?? '');
    },
    close() {
      transport.close();
    },
  };
}

/** Errors that mean the server is unreachable, so trying the next mail is pointless. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ECONNECTION' || code === 'ETIMEDOUT' || code === 'ESOCKET' || code === 'EDNS' || code === 'ETLS' || code === 'EAUTH';
}
