import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/repeat.js';
import { affectedRows, inBatches } from '../database/in-batches.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

const SWEEP_INTERVAL_MS = 60_000;
const BATCH_SIZE = 1000;

/**
 * Deletes audit events older than AUDIT_RETENTION. The table's append-only trigger allows exactly
 * this: a delete of rows older than the retention the transaction declares, by the database's clock.
 */
@Injectable()
export class AuditRetention extends PeriodicTask {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(SWEEP_INTERVAL_MS, 'Audit retention sweep failed');
  }

  /** @returns how many events were deleted */
  async run(): Promise<number> {
    const retention = `${this.config.retention.auditSeconds} seconds`;
    return inBatches(BATCH_SIZE, () =>
      this.dataSource.transaction(async (manager) => {
        await manager.query(`SELECT set_config('auth.audit_retention', $1, true)`, [retention]);
        return affectedRows(
          manager,
          `DELETE FROM audit_events WHERE id IN (
             SELECT id FROM audit_events WHERE occurred_at < now() - $1::interval LIMIT ${BATCH_SIZE} FOR UPDATE SKIP LOCKED)`,
          [retention],
        );
      }),
    );
  }
}
