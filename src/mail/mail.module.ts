import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MailRetention } from './mail-retention.js';
import { LogMailTransport, MAIL_TRANSPORT, SmtpMailTransport, type MailTransport } from './mail-transport.js';
import { OutboxRepository } from './outbox.repository.js';
import { OutboxSender } from './outbox-sender.js';

@Module({
  providers: [
    OutboxRepository,
    OutboxSender,
    MailRetention,
    {
      provide: MAIL_TRANSPORT,
      inject: [APP_CONFIG],
      useFactory: ({ mail }: AppConfig): MailTransport =>
        mail.smtpUrl === undefined ? new LogMailTransport() : new SmtpMailTransport(mail.smtpUrl, mail.from, new URL(mail.publicUrl).hostname),
    },
  ],
  exports: [OutboxRepository, OutboxSender],
})
export class MailModule {}
