import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { expect } from 'vitest';
import { waitFor } from './service-process.js';

/** A mail as the catcher received it over SMTP, parsed. */
export interface ReceivedMail {
  readonly to: string;
  readonly from: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string | false;
  readonly messageId: string;
  readonly receivedAt: number;
}

/**
 * A real SMTP server on loopback (the `smtp-server` package, plain SMTP, no authentication), whose
 * mails are parsed with mailparser: the service talks to it exactly as to a production relay. It
 * can be stopped and started again on the same port (an outage), and `beforeAccept` runs after a
 * mail's data arrived and before the server answers 250 (a test may kill the sender there).
 */
export class MailCatcher {
  readonly mails: ReceivedMail[] = [];
  beforeAccept: ((mail: ReceivedMail) => void | Promise<void>) | undefined;
  private server: SMTPServer | undefined;
  private constructor(public port: number) {}

  static async start(port = 0): Promise<MailCatcher> {
    const catcher = new MailCatcher(port);
    await catcher.listen();
    return catcher;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      hideSTARTTLS: true,
      logger: false,
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then(async (parsed: ParsedMail) => {
            const mail: ReceivedMail = {
              to: addressOf(parsed.to),
              from: addressOf(parsed.from),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: parsed.html ?? false,
              messageId: parsed.messageId ?? '',
              receivedAt: Date.now(),
            };
            await this.beforeAccept?.(mail);
            this.mails.push(mail);
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string): ReceivedMail[] {
    return this.mails.filter((mail) => mail.to === address);
  }

  /** The `count`-th mail to `address` (1-based), once it arrived. */
  async nth(address: string, count: number, timeoutMs = 20_000): Promise<ReceivedMail> {
    await waitFor(() => this.to(address).length >= count, `mail #${count} to ${address}`, timeoutMs);
    return this.to(address)[count - 1]!;
  }
}

function addressOf(field: ParsedMail['to'] | ParsedMail['from']): string {
  const first = Array.isArray(field) ? field[0] : field;
  return first?.value[0]?.address ?? '';
}

/** The link in the mail's text/plain part, and its `token` query parameter. */
export function linkIn(mail: ReceivedMail): { link: URL; token: string } {
  const match = /https?:\/\/\S+/.exec(mail.text);
  expect(match, `a link in: ${mail.text}`).not.toBeNull();
  const link = new URL(match![0]);
  const token = link.searchParams.get('token');
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { link, token: token! };
}
