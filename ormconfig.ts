import 'reflect-metadata';
import { DataSource, type Migration } from 'typeorm';
import { loadConfig } from './src/config/app-config.js';
import { dataSourceOptions } from './src/database/data-source-options.js';
import { startEmbeddedPostgres } from './src/database/embedded-postgres.js';
import { runMigrationsExclusively } from './src/database/migrate.js';

/** `migration:run` takes the service's migration lock, so it never races a replica starting. */
class MigrationLockingDataSource extends DataSource {
  override async runMigrations(options?: Parameters<DataSource['runMigrations']>[0]): Promise<Migration[]> {
    const plain = options?.fake === true || (options?.transaction ?? 'all') !== 'all';
    return plain ? super.runMigrations(options) : runMigrationsExclusively(this);
  }
}

/**
 * The DataSource for the TypeORM CLI (`npm run migration:*`), built from the same options as the
 * app's, on DATABASE_DIRECT_URL (default DATABASE_URL). Without DATABASE_URL it opens the embedded
 * database in EMBEDDED_DATABASE_DIR: stop `npm start` first, since PGlite allows one process per
 * data folder.
 */
async function createDataSource(): Promise<DataSource> {
  const config = loadConfig();
  const url = config.database.directUrl ?? (await startEmbeddedPostgres({ dataDir: config.database.embeddedDataDir, maxConnections: 4 })).url;
  return new MigrationLockingDataSource(dataSourceOptions(config.database, url));
}

export default createDataSource();
