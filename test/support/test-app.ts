import type { NestFastifyApplication } from '@nestjs/platform-fastify';
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

/** Quiet logs, and a small pool since several apps may share the embedded server's connection slots. */
const TEST_ENV = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'error',
  DATABASE_POOL_SIZE: '4',
  JWT_ISSUER: 'http://auth.test',
  KEYS_KEK: TEST_KEK,
};

/** Starts the real application (same factory as main.ts) on a free port against the test database. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ ...TEST_ENV, DATABASE_URL: inject('databaseUrl'), ...env });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  return {
    app,
    dataSource: app.get(DataSource),
    http: () => request(app.getHttpServer()),
    close: () => app.close(),
  };
}

/** Empties every table the entities map (not the migrations table), so each file starts clean. */
export async function truncateAllTables(dataSource: DataSource): Promise<void> {
  const tables = dataSource.entityMetadatas.map((metadata) => `"${metadata.tableName}"`).join(', ');
  await dataSource.query(`TRUNCATE ${tables} CASCADE`);
}
