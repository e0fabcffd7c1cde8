/**
 * The report's SMTP server: npm smtp-server on 127.0.0.1 (as test/support/smtp.ts) that can be
 * stopped and started again on the same port, so an outage ends without touching the config.
 * Every message received is kept with its Message-ID, subject and recipients.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface RecordedMail {
  messageId: string;
  subject: string;
  to: string[];
}

export interface MailRecorder {
  readonly port: number;
  readonly running: boolean;
  /** Every mail received so far, in order of arrival. */
  mails(): Promise<RecordedMail[]>;
  /** Stop listening; sessions in progress are cut. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
}

/** Local delivery of an accepted mail (e.g. into the list's mailbox), done before the server answers 250, as an MTA does. */
export type Deliver = (raw: Buffer, to: string[]) => Promise<void>;

function makeServer(received: Array<Promise<RecordedMail>>, deliver?: Deliver): SMTPServer {
  return new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    // on close, cut open sessions at once: the outage is real
    closeTimeout: 10,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const to = session.envelope.rcptTo.map((r) => r.address).sort();
        (deliver ? deliver(raw, to) : Promise.resolve()).then(
          () => {
            const parsed = simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
            received.push(parsed.then((m) => ({ messageId: m.messageId ?? '(none)', subject: m.subject ?? '(none)', to })));
            cb();
          },
          (err: Error) => cb(Object.assign(new Error(`local delivery failed: ${err.message}`), { responseCode: 451 })),
        );
      });
    },
  });
}

function listen(server: SMTPServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
  });
}

export async function startMailRecorder(deliver?: Deliver): Promise<MailRecorder> {
  const received: Array<Promise<RecordedMail>> = [];
  let server: SMTPServer | undefined = makeServer(received, deliver);
  const port = await listen(server, 0);
  return {
    port,
    get running() {
      return server !== undefined;
    },
    mails: () => Promise.all(received),
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start() {
      // the port was just released: retry briefly while the kernel lets go of it
      for (let i = 0; !server; i++) {
        const next = makeServer(received, deliver);
        try {
          await listen(next, port);
          server = next;
        } catch (err) {
          if (i >= 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
}
