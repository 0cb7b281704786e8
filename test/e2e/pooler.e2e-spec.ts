import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations } from '../../src/database/migrations/index.js';
import { decodeJwt } from '../support/jwt.js';
import { waitFor } from '../support/service-process.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

const queryUrl = inject('databaseUrl');
const directUrl = inject('databaseDirectUrl');
const throughPooler = inject('databaseKind') === 'server' && directUrl !== queryUrl;

/** One statement on a connection of its own to the direct (unpooled) address. */
async function direct<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: directUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Advisory locks held in the test database by anyone (other databases on the server are not ours). */
async function advisoryLocksHeld(): Promise<number> {
  const [row] = await direct<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return row!.n;
}

/**
 * The service behind a transaction pooler (CI: PgBouncer, pool_mode = transaction, stock startup
 * parameters): TEST_DATABASE_URL is the pooler, TEST_DATABASE_DIRECT_URL the server itself. Queries
 * go through the pooler; LISTEN and the migrations go direct.
 */
describe.skipIf(!throughPooler)('through a transaction pooler (needs TEST_DATABASE_URL = pooler, TEST_DATABASE_DIRECT_URL = server)', () => {
  it('three replicas starting together on an empty schema apply every migration once and leave no advisory lock held', async () => {
    for (let round = 1; round <= 4; round++) {
      await direct('DROP SCHEMA IF EXISTS public CASCADE');
      await direct('CREATE SCHEMA public');

      const replicas = await Promise.all([startTestApp(), startTestApp(), startTestApp()]);
      try {
        const applied = await direct<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM migrations GROUP BY name');
        expect(applied.map((row) => row.name).sort()).toEqual(migrations.map((migration) => migration.name).sort());
        expect(applied.every((row) => row.n === 1)).toBe(true);
        expect(await advisoryLocksHeld(), `round ${round}`).toBe(0);
        for (const replica of replicas) await replica.http().get('/health/ready').expect(200);
      } finally {
        await Promise.all(replicas.map((replica) => replica.close()));
      }
      expect(await advisoryLocksHeld(), `round ${round}, replicas stopped`).toBe(0);
    }
  }, 120_000);

  describe('two replicas', () => {
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      await resetDatabase();
      [a, b] = await Promise.all([startTestApp(), startTestApp()]);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
    });

    it('the pooled connections carry no startup parameter and still have the statement timeout (the role default)', async () => {
      const [{ statement_timeout: timeout }] = (await a.dataSource.query('SHOW statement_timeout')) as [{ statement_timeout: string }];
      expect(timeout).toBe('5s');
      const started = performance.now();
      await expect(a.dataSource.query('SELECT pg_sleep(30)')).rejects.toThrow(/statement timeout/);
      expect(performance.now() - started).toBeLessThan(10_000);
    });

    it('rotates refresh tokens, and a reused one revokes the session on both replicas within a second', async () => {
      await createUser(a, 'pooled@example.com');
      const first = await login(a, 'pooled@example.com');
      const second = (await b.http().post('/auth/refresh').send({ refresh_token: first.refresh_token }).expect(200)).body as TokenPair;
      const third = (await a.http().post('/auth/refresh').send({ refresh_token: second.refresh_token }).expect(200)).body as TokenPair;
      await b
        .http()
        .get('/auth/me')
        .set(...bearer(third.access_token))
        .expect(200);

      // The first token's successor has been used: presenting it again is a reuse, not a retry.
      const reusedAt = performance.now();
      await a.http().post('/auth/refresh').send({ refresh_token: first.refresh_token }).expect(401);
      await waitFor(
        async () =>
          (
            await b
              .http()
              .get('/auth/me')
              .set(...bearer(third.access_token))
          ).status === 401,
        'B to refuse',
        5000,
      );
      const elapsed = performance.now() - reusedAt;
      console.log(`through the pooler, replica B refused the reused session's access token ${elapsed.toFixed(1)} ms after the reuse on A`);
      expect(elapsed).toBeLessThan(1000);
      await b.http().post('/auth/refresh').send({ refresh_token: third.refresh_token }).expect(401);
    });

    it('a session revoked on A is refused by B within a second (LISTEN on the direct connection)', async () => {
      await createUser(a, 'admin@example.com', ['user', 'admin']);
      const admin = await login(a, 'admin@example.com');
      await createUser(a, 'victim@example.com');
      const victim = await login(b, 'victim@example.com');
      await b
        .http()
        .get('/auth/me')
        .set(...bearer(victim.access_token))
        .expect(200);
      const sid = decodeJwt(victim.access_token).payload.sid as string;

      const started = performance.now();
      await a
        .http()
        .delete(`/admin/sessions/${sid}`)
        .set(...bearer(admin.access_token))
        .expect(204);
      await waitFor(
        async () =>
          (
            await b
              .http()
              .get('/auth/me')
              .set(...bearer(victim.access_token))
          ).status === 401,
        'B to refuse',
        5000,
      );
      const elapsed = performance.now() - started;
      console.log(`through the pooler, replica B refused the revoked session's access token ${elapsed.toFixed(1)} ms after the revocation on A`);
      expect(elapsed).toBeLessThan(1000);
    });

    it('leaves no advisory lock held', async () => {
      expect(await advisoryLocksHeld()).toBe(0);
    });
  });
});
