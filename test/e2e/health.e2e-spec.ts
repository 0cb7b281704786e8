import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/service-process.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

describe('health', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('GET /health/live answers 200 while the process runs', async () => {
    await t.http().get('/health/live').expect(200, { status: 'ok' });
  });

  it('GET /health/ready answers 200 when the database is reachable', async () => {
    await t.http().get('/health/ready').expect(200, { status: 'ok' });
  });

  it('GET /health/ready answers 503 service_unavailable when the database is gone', async () => {
    const other = await startTestApp();
    await other.dataSource.destroy();

    const res = await other.http().get('/health/ready');

    expect(res.status).toBe(503);
    expect(res.body).toEqual({ statusCode: 503, error: 'service_unavailable', message: 'Database unreachable' });
    await other.app.getHttpAdapter().close();
  });

  it.skipIf(inject('databaseKind') === 'embedded')(
    'GET /health/ready recovers by itself after the database dropped every connection (needs TEST_DATABASE_URL)',
    async () => {
      await t.dataSource.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'auth-service' AND pid <> pg_backend_pid()`,
      );
      await t.dataSource.query(`SELECT pg_terminate_backend(pg_backend_pid())`).catch(() => undefined);

      await waitFor(async () => (await t.http().get('/health/ready')).status === 200, 'readiness to recover', 10_000);
    },
  );

  it('answers an unknown route with 404 not_found in the contract shape', async () => {
    await t.http().get('/no/such/route').expect(404, { statusCode: 404, error: 'not_found', message: 'Not found' });
  });
});
