import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { entities } from '../entities.js';
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
      // No statement_timeout startup parameter: a transaction pooler refuses it (see prepareDatabase).
      // Client-side bounds, so a frozen or unreachable server fails a request (503) instead of
      // hanging it: a pool slot or new connection within 3 s, each query's answer within a second
      // past the server's own statement timeout.
      connectionTimeoutMillis: 3000,
      query_timeout: database.statementTimeoutMs + 1000,
    },
  };
}
