import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config/app-config.js';
import { createApp } from '../../src/create-app.js';

/** Fixed for the run: every app started by the tests must decrypt the keys another one created. */
export const TEST_KEK = Buffer.alloc(32, 7).toString('base64');

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly dataSource: DataSource;
  /** A supertest agent speaking real HTTP to the app's listening socket. */
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * Quiet logs (many tests provoke errors on purpose: outages, bad keys, refused boots; set
 * TEST_LOG_LEVEL to see them), and a small pool since several apps may share the embedded
 * server's connection slots.
 */
const TEST_ENV = {
  NODE_ENV: 'test',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
  DATABASE_POOL_SIZE: '4',
  JWT_ISSUER: 'http://auth.test',
  KEYS_KEK: TEST_KEK,
  // Tests log in far more often than any client may; the throttling tests set their own limit.
  RATE_LIMIT_IP_PER_MINUTE: '1000000',
  // Several apps share the test process: each Prometheus listener takes a free port.
  METRICS_PORT: '0',
};

/** Starts the real application (same factory as main.ts) on a free port against the test database. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ ...TEST_ENV, DATABASE_URL: inject('databaseUrl'), DATABASE_DIRECT_URL: inject('databaseDirectUrl'), ...env });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  return {
    app,
    dataSource: app.get(DataSource),
    http: () => request(app.getHttpServer()),
    close: () => app.close(),
  };
}

/** Empties every table but the migrations' own, so a test file or test starts from nothing. */
export async function resetDatabase(): Promise<void> {
  // Direct, never through a pooler: a pooled server connection opened here, before any replica has
  // made statement_timeout its role's default, would keep no timeout and be handed to a replica later.
  const client = new pg.Client({ connectionString: inject('databaseDirectUrl') });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
    );
    if (rows.length > 0) await client.query(`TRUNCATE ${rows.map((row) => `"${row.tablename}"`).join(', ')} CASCADE`);
  } finally {
    await client.end();
  }
}
