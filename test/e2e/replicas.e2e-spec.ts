import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LISTENER_APPLICATION_NAME } from '../../src/sessions/revocation-list.service.js';
import { decodeJwt } from '../support/jwt.js';
import { waitFor } from '../support/service-process.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

const onServer = inject('databaseKind') === 'server';

/** Two instances of the service on one database, as two replicas behind a load balancer. */
describe('revocation across replicas', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: TokenPair;

  beforeAll(async () => {
    await resetDatabase();
    a = await startTestApp();
    // B's safety-net resync is short so the lost-notification case converges quickly.
    b = await startTestApp({ REVOCATION_RESYNC_INTERVAL: '1' });
    await createUser(a, 'admin@example.com', ['user', 'admin']);
    admin = await login(a, 'admin@example.com');
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  async function userSession(email: string): Promise<TokenPair> {
    await createUser(a, email);
    const tokens = await login(a, email);
    await b
      .http()
      .get('/auth/me')
      .set(...bearer(tokens.access_token))
      .expect(200);
    return tokens;
  }

  /** Revokes on A, then measures how long B keeps accepting the access token. */
  async function revokeOnAAndTimeB(tokens: TokenPair): Promise<number> {
    const sid = decodeJwt(tokens.access_token).payload.sid as string;
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
            .set(...bearer(tokens.access_token))
        ).status === 401,
      'B to refuse',
      10_000,
    );
    return performance.now() - started;
  }

  it.skipIf(!onServer)(
    'a session revoked on A is refused by B within a second, by LISTEN/NOTIFY (needs TEST_DATABASE_URL: the embedded database does not deliver NOTIFY across connections)',
    async () => {
      const tokens = await userSession('notify@example.com');

      const elapsed = await revokeOnAAndTimeB(tokens);

      console.log(`replica B refused the revoked session's access token ${elapsed.toFixed(1)} ms after the revocation on A`);
      expect(elapsed).toBeLessThan(5000);
    },
  );

  it("refuses the revoked session's refresh token on both replicas at once", async () => {
    const tokens = await userSession('refresh@example.com');
    const sid = decodeJwt(tokens.access_token).payload.sid as string;

    await a
      .http()
      .delete(`/admin/sessions/${sid}`)
      .set(...bearer(admin.access_token))
      .expect(204);

    await b.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(401);
    await a.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(401);
  });

  it('B converges after losing its listening connection, through the resync', async () => {
    const tokens = await userSession('lost@example.com');
    if (onServer) {
      await a.dataSource.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [LISTENER_APPLICATION_NAME]);
    }

    const elapsed = await revokeOnAAndTimeB(tokens);

    console.log(`without its listener, replica B converged ${elapsed.toFixed(0)} ms after the revocation on A`);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('a role removed on A stops the old token on B', async () => {
    const secondId = await createUser(a, 'second-admin@example.com', ['user', 'admin']);
    const second = await login(a, 'second-admin@example.com');
    await b
      .http()
      .get('/admin/users')
      .set(...bearer(second.access_token))
      .expect(200);

    await a
      .http()
      .patch(`/admin/users/${secondId}`)
      .set(...bearer(admin.access_token))
      .send({ roles: ['user'] })
      .expect(200);

    await waitFor(
      async () =>
        (
          await b
            .http()
            .get('/admin/users')
            .set(...bearer(second.access_token))
        ).status === 401,
      'B to refuse',
      10_000,
    );
  });
});
