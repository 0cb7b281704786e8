import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { MAIL_TRANSPORT, type MailTransport } from './mail-transport.js';
import { OutboxRepository, type ClaimedMail } from './outbox.repository.js';
import { retryDelayMs } from './retry-policy.js';

/** How often each replica looks for due mails (retries, and mails queued by other replicas). */
export const OUTBOX_POLL_INTERVAL_MS = 1_000;
/** A claim's lease: a mail claimed by a sender that then died is due again this long after the claim. */
export const OUTBOX_LEASE_MS = 120_000;
/** One delivery's limit, well inside the lease, so a slow send is never overtaken by a second claim. */
const SEND_TIMEOUT_MS = 60_000;
const BATCH_SIZE = 5;

/**
 * Delivers the mail outbox, at least once. Every replica runs one: it polls every second, and is
 * woken at once when this replica queues a mail. A mail is claimed with a lease (see
 * OutboxRepository.claim), sent, then marked sent. A failed delivery is retried with capped
 * exponential backoff and jitter until the server accepts it or the mail's link expires. A crash
 * between the server's acceptance and the mark leaves the mail to be sent again after the lease:
 * the recipient then has the same link twice (same Message-ID), and the token is still single-use.
 */
@Injectable()
export class OutboxSender implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxSender.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Failed attempts since the last delivery, for one log line when delivery works again. */
  private failingSince: number | undefined;

  constructor(
    private readonly outbox: OutboxRepository,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.wake(), OUTBOX_POLL_INTERVAL_MS);
    this.timer.unref();
    void this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    this.transport.close();
  }

  /** Sends what is due now; called after this replica queued a mail (its transaction committed). Never rejects. */
  wake(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          while (!this.stopped && (await this.deliverBatch()) > 0);
        } catch (error) {
          this.logger.warn(`Mail outbox: ${String(error)}`);
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** @returns how many mails were claimed */
  async deliverBatch(): Promise<number> {
    const claimed = await this.outbox.claim(this.clock.now(), OUTBOX_LEASE_MS, BATCH_SIZE);
    await Promise.all(claimed.map((mail) => this.deliver(mail)));
    return claimed.length;
  }

  private async deliver(mail: ClaimedMail): Promise<void> {
    try {
      await withTimeout(this.transport.send(mail), SEND_TIMEOUT_MS);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const delay = retryDelayMs(mail.attempts);
      this.failingSince ??= this.clock.now().getTime();
      this.logger.warn(`Mail ${mail.id}: attempt ${mail.attempts} failed (${reason}); retrying in ${Math.round(delay / 100) / 10} s`);
      await this.outbox.scheduleRetry(mail.id, new Date(this.clock.now().getTime() + delay), reason);
      return;
    }
    await this.outbox.markSent(mail.id, this.clock.now());
    if (this.failingSince !== undefined) {
      this.logger.log(`Mail delivery works again after ${Math.round((this.clock.now().getTime() - this.failingSince) / 1000)} s of failures`);
      this.failingSince = undefined;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
