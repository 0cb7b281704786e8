import { Logger } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';

export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

/** One mail as the outbox holds it. */
export interface OutgoingMail {
  /** The outbox row's id; also the Message-ID's left part, so a duplicate delivery carries the same Message-ID. */
  readonly id: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string | null;
}

/** Where mails go: an SMTP server, or (development, no SMTP_URL) the log. */
export interface MailTransport {
  /** Resolves once the receiving server accepted the mail; rejects otherwise. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

// Each bounded, so that one delivery ends well within OutboxSender's lease (see SEND_TIMEOUT_MS there).
const CONNECTION_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 20_000;

/** nodemailer over SMTP_URL (`smtp://` with STARTTLS when offered, `smtps://` implicit TLS); one connection per mail. */
export class SmtpMailTransport implements MailTransport {
  private readonly transporter: Transporter;
  private readonly password: string;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    private readonly messageIdDomain: string,
  ) {
    const url = new URL(smtpUrl);
    this.password = decodeURIComponent(url.password);
    const auth = url.username === '' ? undefined : { user: decodeURIComponent(url.username), pass: this.password };
    this.transporter = nodemailer.createTransport({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? (url.protocol === 'smtps:' ? 465 : 587) : Number(url.port),
      secure: url.protocol === 'smtps:',
      auth,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
      // nodemailer's own logging stays off: it would print the SMTP conversation, AUTH included.
      logger: false,
      debug: false,
    });
  }

  async send(mail: OutgoingMail): Promise<void> {
    try {
      await this.transporter.sendMail({
        from: this.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.html === null ? {} : { html: mail.html }),
        messageId: `<${mail.id}@${this.messageIdDomain}>`,
      });
    } catch (error) {
      // Only the message travels on, and never with the password in it.
      const message = error instanceof Error ? error.message : String(error);
      // eslint-disable-next-line preserve-caught-error -- the cause may carry the SMTP password
      throw new Error(this.password === '' ? message : message.replaceAll(this.password, '***'));
    }
  }

  close(): void {
    this.transporter.close();
  }
}

/** Development without SMTP_URL: the mail, link included, goes to the log; configuration refuses this in production. */
export class LogMailTransport implements MailTransport {
  private readonly logger = new Logger('Mail');

  send(mail: OutgoingMail): Promise<void> {
    this.logger.warn(`Not sent (SMTP_URL is unset): mail ${mail.id} to ${mail.to}, "${mail.subject}"\n${mail.text}`);
    return Promise.resolve();
  }

  close(): void {}
}
