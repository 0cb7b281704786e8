import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { PeriodicTask } from '../common/repeat.js';
import { MailTokensRepository } from './mail-tokens.repository.js';

const SWEEP_INTERVAL_MS = 60_000;
const BATCH_SIZE = 500;

/** Deletes mail tokens once expired: used or not, they can no longer do anything. */
@Injectable()
export class MailTokenRetention extends PeriodicTask {
  constructor(
    private readonly tokens: MailTokensRepository,
    private readonly clock: Clock,
  ) {
    super(SWEEP_INTERVAL_MS, 'Mail token retention sweep failed');
  }

  async run(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const batch = await this.tokens.deleteExpired(this.clock.now(), BATCH_SIZE);
      deleted += batch;
      if (batch < BATCH_SIZE) return deleted;
    }
  }
}
