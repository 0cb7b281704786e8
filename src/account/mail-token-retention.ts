import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { inBatches } from '../database/in-batches.js';
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
    return inBatches(BATCH_SIZE, () => this.tokens.deleteExpired(this.clock.now(), BATCH_SIZE));
  }
}
