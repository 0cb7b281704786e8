import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { inBatches } from '../database/in-batches.js';
import { PeriodicTask } from '../common/repeat.js';
import { OutboxRepository } from './outbox.repository.js';

const SWEEP_INTERVAL_MS = 60_000;
const BATCH_SIZE = 500;
/** Sent and abandoned mails (bodies already emptied) are kept this long for support questions, then deleted. */
export const MAIL_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** Gives up mails whose link has expired, and deletes finished mails after MAIL_RETENTION_MS. */
@Injectable()
export class MailRetention extends PeriodicTask {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
  ) {
    super(SWEEP_INTERVAL_MS, 'Mail retention sweep failed');
  }

  async run(): Promise<{ abandoned: number; deleted: number }> {
    const now = this.clock.now();
    const abandoned = await this.outbox.abandonExpired(now);
    const deleted = await inBatches(BATCH_SIZE, () => this.outbox.deleteFinishedBefore(new Date(now.getTime() - MAIL_RETENTION_MS), BATCH_SIZE));
    return { abandoned, deleted };
  }
}
