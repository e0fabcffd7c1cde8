import MimeNode from 'nodemailer/lib/mime-node';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

/**
 * One SMTP session, connected and logged in BEFORE the mails it carries (nodemailer's
 * SMTPConnection, with the options and login that smtp.ts's transport resolved from the config).
 * A caller records "about to send" after open(), so only MAIL FROM..end of DATA of that one mail
 * lies between its record and the server's answer.
 */
export class SmtpSession {
  private conn?: SMTPConnection;

  constructor(private readonly transport: SMTPTransport) {}

  /** Connect and log in, unless the session is still open. */
  async open(): Promise<void> {
    if (this.conn && !this.conn.destroyed) return;
    const conn = new SMTPConnection(this.transport.options);
    conn.on('error', ignore); // also handed to the command in flight, which reports it
    this.conn = conn;
    try {
      await untilDone(conn, (done) => conn.connect(done));
      const auth = this.transport.getAuth();
      if (auth && (conn.allowsAuth || this.transport.options.forceAuth)) await untilDone(conn, (done) => conn.login(auth, done));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Send one prebuilt message on the open session; resolves with the server's final answer. */
  send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<string> {
    const conn = this.conn;
    if (!conn || conn.destroyed) return Promise.reject(Object.assign(new Error('SMTP session not open'), { code: 'ECONNECTION', command: 'API' }));
    // the envelope as nodemailer's sendMail makes it: bare addresses (`Name <a@b>` -> a@b), IDN domains in punycode
    const bare = new MimeNode().setEnvelope(envelope).getEnvelope();
    return new Promise((resolve, reject) => {
      conn.send({ from: bare.from, to: bare.to }, raw, (err, info) => {
        if (err) {
          // a fresh session for the next mail rather than one in an unknown state
          this.close();
          reject(err);
        } else resolve(String(info.response));
      });
    });
  }

  /** Without QUIT, as nodemailer's transport does: a server slow to answer it would hold the process. */
  close(): void {
    this.conn?.close();
    this.conn = undefined;
  }
}

/**
 * Whether a failed send may still have delivered the mail: false when the server answered with a
 * refusal (4xx/5xx) or nodemailer refused before writing the message; true otherwise (the socket
 * broke or timed out, possibly after the end of DATA reached the server: RFC 5321 has no way to ask).
 */
export function mayHaveBeenAccepted(err: unknown): boolean {
  const e = err as { responseCode?: unknown; command?: unknown };
  if (e.command === 'API') return false;
  return !(typeof e.responseCode === 'number' && e.responseCode >= 400);
}

const ignore = (): void => undefined;

/** Run one connection step to its callback; a socket error meanwhile (not always handed to that callback) fails it too. */
function untilDone(conn: SMTPConnection, start: (done: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.once('error', reject);
    start((err) => {
      conn.off('error', reject);
      if (err) reject(err);
      else resolve();
    });
  });
}
