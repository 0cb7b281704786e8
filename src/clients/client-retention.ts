import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { affectedRows, inBatches } from '../database/in-batches.js';
import { PeriodicTask } from '../common/repeat.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

const SWEEP_INTERVAL_MS = 60_000;
const BATCH_SIZE = 500;

/**
 * Forgets assertion ids and revoked client tokens once they have expired: neither could be accepted
 * anyway. A revoked token is kept two clock skews past its expiry (the issuer's and a verifier's
 * clocks may each be off by that much).
 */
@Injectable()
export class ClientRetention extends PeriodicTask {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    super(SWEEP_INTERVAL_MS, 'Client retention sweep failed');
  }

  async run(): Promise<{ assertionsDeleted: number; revokedTokensDeleted: number }> {
    const now = this.clock.now().getTime();
    const assertionsDeleted = await inBatches(BATCH_SIZE, () =>
      affectedRows(
        this.dataSource,
        `DELETE FROM client_assertions WHERE (client_id, jti) IN (
         SELECT client_id, jti FROM client_assertions WHERE expires_at < $1 LIMIT ${BATCH_SIZE} FOR UPDATE SKIP LOCKED)`,
        [new Date(now)],
      ),
    );
    const revokedTokensDeleted = await inBatches(BATCH_SIZE, () =>
      affectedRows(
        this.dataSource,
        `DELETE FROM revoked_client_tokens WHERE jti IN (
         SELECT jti FROM revoked_client_tokens WHERE expires_at < $1 LIMIT ${BATCH_SIZE} FOR UPDATE SKIP LOCKED)`,
        [new Date(now - 2 * this.config.tokens.clockSkewSeconds * 1000)],
      ),
    );
    return { assertionsDeleted, revokedTokensDeleted };
  }
}
