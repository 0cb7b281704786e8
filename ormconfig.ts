import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/app-config.js';
import { dataSourceOptions } from './src/database/data-source-options.js';
import { startEmbeddedPostgres } from './src/database/embedded-postgres.js';

/**
 * The DataSource for the TypeORM CLI (`npm run migration:*`), built from the same options as the
 * app's. Without DATABASE_URL it opens the embedded database in EMBEDDED_DATABASE_DIR: stop
 * `npm start` first, since PGlite allows one process per data folder.
 */
async function createDataSource(): Promise<DataSource> {
  const config = loadConfig();
  const url =
    config.database.url ??
    (await startEmbeddedPostgres({ dataDir: config.database.embeddedDataDir, maxConnections: 4 })).url;
  return new DataSource(dataSourceOptions(config.database, url));
}

export default createDataSource();
