import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
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
 * or else an in-memory embedded Postgres that lives as long as the run.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    await resetSchema(serverUrl);
    project.provide('databaseUrl', serverUrl);
    project.provide('databaseKind', 'server');
    return;
  }
  const embedded = await startEmbeddedPostgres({ dataDir: undefined, maxConnections: 64 });
  project.provide('databaseUrl', embedded.url);
  project.provide('databaseKind', 'embedded');
  return () => embedded.stop();
}
