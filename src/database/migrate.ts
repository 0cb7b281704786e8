import type { DataSource } from 'typeorm';

// Any constant shared by every replica; it names "the migration lock" in pg_locks.
const MIGRATION_LOCK_KEY = 0x61757468; // "auth"

/**
 * Runs pending migrations while holding a session-level advisory lock, so replicas starting
 * together apply each migration once. The lock lives outside the migration transaction, which
 * also keeps the embedded database (one backend for all connections) from waiting on itself.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<void> {
  const lockHolder = dataSource.createQueryRunner();
  await lockHolder.connect();
  try {
    await lockHolder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'all' });
  } finally {
    await lockHolder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockHolder.release();
  }
}
