import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { entities } from './entities.js';
import { migrations } from './migrations/index.js';

/** The single TypeORM configuration, shared by the app (DatabaseModule) and the CLI (ormconfig.ts). */
export function dataSourceOptions(database: AppConfig['database'], url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    // The schema changes only through reviewed migrations, run under a lock at start (see migrate.ts).
    synchronize: false,
    migrationsRun: false,
    // gen_random_uuid() is built into Postgres 13+ and PGlite; no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    // Only migration names: TypeORM's query and error logging print parameters, which hold secrets.
    logging: ['migration'],
    applicationName: 'auth-service',
    extra: {
      max: database.poolSize,
      statement_timeout: database.statementTimeoutMs,
      connectionTimeoutMillis: 5000,
    },
  };
}
