import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { PeriodicTask } from '../common/repeat.js';
import { affectedRows, inBatches } from '../database/in-batches.js';

const SWEEP_INTERVAL_MS = 60_000;
const BATCH_SIZE = 500;

/**
 * Deletes login challenges (a first step's mfa_token) once spent or expired: they can do nothing
 * more, and each keeps a copy of the user's password hash.
 */
@Injectable()
export class MfaChallengeRetention extends PeriodicTask {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    super(SWEEP_INTERVAL_MS, 'MFA challenge retention sweep failed');
  }

  async run(): Promise<number> {
    return inBatches(BATCH_SIZE, () =>
      affectedRows(
        this.dataSource,
        `DELETE FROM mfa_challenges WHERE id IN (
           SELECT id FROM mfa_challenges WHERE used_at IS NOT NULL OR expires_at <= $1 LIMIT ${BATCH_SIZE} FOR UPDATE SKIP LOCKED)`,
        [this.clock.now()],
      ),
    );
  }
}
