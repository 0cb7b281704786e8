import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    /** A direct (unpooled) address of the same database: TEST_DATABASE_DIRECT_URL, else databaseUrl. */
    databaseDirectUrl: string;
    databaseKind: 'server' | 'embedded';
  }
}

/** Empties the schema so every run applies all migrations from scratch, as a new deployment would. */
async function resetSchema(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS public CASCADE');
    await client.query('CREATE SCHEMA public');
  } finally {
    await client.end();
  }
}

/**
 * One database for the whole run: the server in TEST_DATABASE_URL (its public schema is wiped),
 * or else an in-memory embedded Postgres that lives as long as the run. TEST_DATABASE_URL may be a
 * transaction pooler when TEST_DATABASE_DIRECT_URL names the same database directly; the schema is
 * reset through the direct address, as the service migrates through it.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const directUrl = process.env.TEST_DATABASE_DIRECT_URL || serverUrl;
    await resetSchema(directUrl);
    project.provide('databaseUrl', serverUrl);
    project.provide('databaseDirectUrl', directUrl);
    project.provide('databaseKind', 'server');
    return undefined;
  }
  const embedded = await startEmbeddedPostgres({ dataDir: undefined, maxConnections: 64 });
  project.provide('databaseUrl', embedded.url);
  project.provide('databaseDirectUrl', embedded.url);
  project.provide('databaseKind', 'embedded');
  return () => embedded.stop();
}
