import { Logger } from '@nestjs/common';
import { DataSource, MigrationExecutor, type Migration } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source-options.js';

// Any constant shared by every replica; it names "the migration lock" in pg_locks.
const MIGRATION_LOCK_KEY = 0x61757468; // "auth"

/** How the migration connection shows in pg_stat_activity. */
export const MIGRATION_APPLICATION_NAME = 'auth-service-migrations';

/**
 * Runs pending migrations in one transaction that first takes a transaction-scoped advisory lock,
 * so replicas starting together apply each migration once and wait for each other's commit. The
 * lock ends with the transaction: nothing depends on a session surviving between statements, so
 * this is correct through a transaction pooler too (a session lock taken and released there can
 * land on two server connections and stay held), and everything happens on one connection, which
 * keeps the embedded database (one backend for all connections) from waiting on itself.
 *
 * `statementTimeoutMs` bounds every statement of the run, the lock wait included, as it always did.
 */
export async function runMigrationsExclusively(dataSource: DataSource, statementTimeoutMs?: number): Promise<Migration[]> {
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  try {
    await queryRunner.startTransaction();
    try {
      if (statementTimeoutMs !== undefined) {
        await queryRunner.query(`SELECT set_config('statement_timeout', $1, true)`, [`${statementTimeoutMs}ms`]);
      }
      await queryRunner.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      // In our transaction already, the executor neither begins nor commits: it only runs the migrations.
      const executor = new MigrationExecutor(dataSource, queryRunner);
      executor.transaction = 'all';
      const applied = await executor.executePendingMigrations();
      await queryRunner.commitTransaction();
      return applied;
    } catch (error) {
      if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await queryRunner.release();
  }
}

/**
 * Makes `statement_timeout` the default of the service's role in this database, so that every new
 * server connection starts with it, including those a transaction pooler opens (which refuses it as
 * a startup parameter, and would hand a `SET` to whichever client comes next). Written only when
 * it differs; a refusal (a role that may not alter itself) is logged, not fatal.
 */
export async function applyRoleStatementTimeout(dataSource: DataSource, statementTimeoutMs: number, logger: Logger): Promise<void> {
  if (!Number.isSafeInteger(statementTimeoutMs) || statementTimeoutMs < 0) throw new RangeError('statementTimeoutMs');
  const setting = `statement_timeout=${statementTimeoutMs}`;
  try {
    const [row] = (await dataSource.query(
      `SELECT EXISTS (
         SELECT 1 FROM pg_db_role_setting s
          WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
            AND $1 = ANY (s.setconfig)) AS current`,
      [setting],
    )) as [{ current: boolean }];
    if (row.current) return;
    // Utility statements take no bound parameters: the number is checked above, the name quoted by format().
    await dataSource.query(
      `DO $$ BEGIN EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I SET statement_timeout = ${statementTimeoutMs}', current_database()); END $$`,
    );
    logger.log(`statement_timeout of this role in this database set to ${statementTimeoutMs} ms (DATABASE_STATEMENT_TIMEOUT_MS)`);
  } catch (error) {
    logger.warn(
      `Could not set statement_timeout for this role (${(error as Error).message}); ` +
        `run ALTER ROLE <role> IN DATABASE <db> SET statement_timeout = ${statementTimeoutMs} as its owner`,
    );
  }
}

/**
 * What needs a session of its own at start, on a short-lived connection to DATABASE_DIRECT_URL
 * (which defaults to DATABASE_URL): the migrations, and the role's statement_timeout. Runs before
 * the query pool opens, so that pool's server connections start with the timeout.
 */
export async function prepareDatabase(database: AppConfig['database']): Promise<void> {
  const url = database.directUrl ?? database.url;
  if (url === undefined) throw new Error('database.url must be resolved before the app starts');
  const options = dataSourceOptions(database, url);
  const dataSource = new DataSource({
    ...options,
    applicationName: MIGRATION_APPLICATION_NAME,
    extra: { ...options.extra, max: 1 },
  } as typeof options);
  await dataSource.initialize();
  try {
    await runMigrationsExclusively(dataSource, database.statementTimeoutMs);
    if (!(await isEmbedded(dataSource))) {
      await applyRoleStatementTimeout(dataSource, database.statementTimeoutMs, new Logger('Database'));
    }
  } finally {
    await dataSource.destroy();
  }
}

/** PGlite runs one backend for every connection, started once: role defaults never apply there. */
async function isEmbedded(dataSource: DataSource): Promise<boolean> {
  const [row] = (await dataSource.query('SELECT version() AS version')) as [{ version: string }];
  return /\bPGlite\b/i.test(row.version);
}
