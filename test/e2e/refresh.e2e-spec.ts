import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock.js';
import { generateRefreshToken, hashRefreshToken, sealReplay } from '../../src/sessions/refresh-token-crypto.js';
import { SessionsRepository } from '../../src/sessions/sessions.repository.js';
import { waitFor } from '../support/service-process.js';
import { decodeJwt } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

describe('refresh tokens and sessions', () => {
  let t: TestApp;
  let clock: Clock;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    clock = t.app.get(Clock);
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.dataSource.query('TRUNCATE users CASCADE');
  });
  afterEach(() => vi.restoreAllMocks());

  /** Moves the service's clock; every expiry decision reads it. */
  const travel = (seconds: number) => {
    const at = new Date(Date.now() + seconds * 1000);
    vi.spyOn(clock, 'now').mockReturnValue(at);
  };

  const refresh = (refreshToken: string) => t.http().post('/auth/refresh').send({ refresh_token: refreshToken });
  const me = (accessToken: string) =>
    t
      .http()
      .get('/auth/me')
      .set(...bearer(accessToken));
  const sessionRow = async (sid: string) => (await t.dataSource.query('SELECT * FROM sessions WHERE id = $1', [sid]))[0];

  describe('refresh rotation and reuse detection', () => {
    it('login → me → refresh → me → reuse of the old token revokes the whole session', async () => {
      const userId = await createUser(t, 'ann@example.com');
      const first = await login(t, 'ann@example.com');
      await me(first.access_token).expect(200, { id: userId, email: 'ann@example.com', roles: ['user'], email_verified: false });

      const second = (await refresh(first.refresh_token).expect(200)).body as TokenPair;
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.access_token).not.toBe(first.access_token);
      expect(decodeJwt(second.access_token).payload.sid).toBe(decodeJwt(first.access_token).payload.sid);
      await me(second.access_token).expect(200);

      // The spent token again, once its successor has been used: someone else holds the family.
      const third = (await refresh(second.refresh_token).expect(200)).body as TokenPair;
      const reuse = await refresh(first.refresh_token);

      expect(reuse.status).toBe(401);
      expect(reuse.body).toEqual({ statusCode: 401, error: 'invalid_grant', message: expect.any(String) });
      await refresh(third.refresh_token).expect(401);
      await me(third.access_token).expect(401);
      const session = await sessionRow(decodeJwt(first.access_token).payload.sid as string);
      expect(session.revoked_reason).toBe('refresh_token_reuse');
      expect(session.revoked_at).not.toBeNull();
    });

    it('replays the identical pair to a retry within the grace window', async () => {
      await createUser(t, 'ann@example.com');
      const first = await login(t, 'ann@example.com');

      const original = await refresh(first.refresh_token).expect(200);
      travel(9);
      const retry = await refresh(first.refresh_token).expect(200);

      expect(retry.body).toEqual(original.body);
      expect(retry.headers['cache-control']).toBe('no-store');
      await refresh(original.body.refresh_token).expect(200);
    });

    it('treats a retry after the grace window as reuse', async () => {
      await createUser(t, 'ann@example.com');
      const first = await login(t, 'ann@example.com');
      const second = (await refresh(first.refresh_token).expect(200)).body as TokenPair;

      travel(11);
      await refresh(first.refresh_token).expect(401);

      await refresh(second.refresh_token).expect(401);
    });

    it('treats a retry as reuse once the newer token has been used, even within the window', async () => {
      await createUser(t, 'ann@example.com');
      const first = await login(t, 'ann@example.com');
      const second = (await refresh(first.refresh_token).expect(200)).body as TokenPair;
      const third = (await refresh(second.refresh_token).expect(200)).body as TokenPair;

      await refresh(first.refresh_token).expect(401);

      await refresh(third.refresh_token).expect(401);
    });

    it('rotates exactly once when ten refreshes of one token arrive at once', async () => {
      await createUser(t, 'ann@example.com');
      const { refresh_token } = await login(t, 'ann@example.com');

      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(refresh_token)));

      const successes = results.filter((res) => res.status === 200);
      expect(successes.length).toBeGreaterThan(0);
      expect(new Set(successes.map((res) => res.body.refresh_token)).size).toBe(1);
      expect(results.every((res) => res.status === 200 || res.status === 401)).toBe(true);
      const [{ count }] = await t.dataSource.query('SELECT count(*)::int AS count FROM refresh_tokens');
      expect(count).toBe(2);
    });

    // The optimistic write and the row-locked path must take the token before the session, or a
    // presentation landing while another holds the token's lock deadlocks (a 500 after a second).
    it.skipIf(inject('databaseKind') === 'embedded')(
      'a presentation arriving while the token is locked by another rotation waits for it and gets the grace replay (needs TEST_DATABASE_URL: the embedded database runs one transaction at a time)',
      async () => {
        await createUser(t, 'ann@example.com');
        const { refresh_token } = await login(t, 'ann@example.com');
        const sessions = t.app.get(SessionsRepository);
        const holder = t.dataSource.createQueryRunner();
        await holder.connect();
        await holder.startTransaction();
        try {
          const token = (await sessions.lockPresented(holder.manager, hashRefreshToken(refresh_token)))!;
          // then() sends it now: supertest sends a request only once it is awaited or then()ed.
          const racing = refresh(refresh_token).then((res) => res);
          await waitFor(
            async () =>
              (await t.dataSource.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).length > 0,
            'the racing refresh to wait on the token',
          );
          const successor = generateRefreshToken();
          const response = { access_token: 'sealed', refresh_token: successor };
          const at = new Date();
          const rotation = {
            token,
            at,
            sealedReplay: sealReplay(refresh_token, response),
            successorHash: hashRefreshToken(successor),
            successorExpiresAt: new Date(at.getTime() + 3600_000),
          };
          expect(await sessions.rotate(rotation, holder.manager)).toBe(true);
          await holder.commitTransaction();

          const res = await racing;
          expect(res.status).toBe(200);
          expect(res.body).toEqual(response);
          const [{ count }] = await t.dataSource.query('SELECT count(*)::int AS count FROM refresh_tokens');
          expect(count).toBe(2);
        } finally {
          if (holder.isTransactionActive) await holder.rollbackTransaction();
          await holder.release();
        }
      },
    );

    it.each([
      ['an unknown token', 'A'.repeat(43)],
      ['a malformed string', 'not a refresh token'],
      ['an access token', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln'],
      ['an empty string', ''],
    ])('refuses %s with 401 invalid_grant and revokes nothing', async (_name, token) => {
      await createUser(t, 'ann@example.com');
      const victim = await login(t, 'ann@example.com');

      const res = await refresh(token);

      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_grant');
      await refresh(victim.refresh_token).expect(200);
    });

    it('refuses a body without refresh_token with 400 invalid_request', async () => {
      const res = await t.http().post('/auth/refresh').send({});

      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it('refuses to refresh for a disabled user', async () => {
      const id = await createUser(t, 'ann@example.com');
      const tokens = await login(t, 'ann@example.com');
      await t.dataSource.query('UPDATE users SET disabled = true WHERE id = $1', [id]);

      const res = await refresh(tokens.refresh_token);

      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_grant');
    });

    it('carries the current roles into the refreshed access token', async () => {
      const id = await createUser(t, 'ann@example.com');
      const tokens = await login(t, 'ann@example.com');
      await t.dataSource.query(`UPDATE users SET roles = '{user,auditor}' WHERE id = $1`, [id]);

      const refreshed = (await refresh(tokens.refresh_token).expect(200)).body as TokenPair;

      expect(decodeJwt(refreshed.access_token).payload.roles).toEqual(['user', 'auditor']);
    });
  });

  describe('lifetimes (injected clock)', () => {
    it('expires an unused refresh token after the idle lifetime', async () => {
      await createUser(t, 'ann@example.com');
      const tokens = await login(t, 'ann@example.com');

      travel(14 * 86400 + 1);

      await refresh(tokens.refresh_token).expect(401);
    });

    it('ends the session at its absolute lifetime however often it is refreshed', async () => {
      await createUser(t, 'ann@example.com');
      let tokens = await login(t, 'ann@example.com');

      for (const day of [10, 20, 29]) {
        travel(day * 86400);
        const res = await refresh(tokens.refresh_token).expect(200);
        tokens = res.body as TokenPair;
        expect(tokens.refresh_expires_in).toBeLessThanOrEqual(30 * 86400 - day * 86400);
      }
      travel(30 * 86400 + 1);

      await refresh(tokens.refresh_token).expect(401);
    });

    it('refuses an access token once it has expired (beyond the clock skew)', async () => {
      await createUser(t, 'ann@example.com');
      const tokens = await login(t, 'ann@example.com');

      travel(900 + 29);
      await me(tokens.access_token).expect(200);
      travel(900 + 31);
      const res = await me(tokens.access_token);

      expect(res.status).toBe(401);
      expect(res.body).toEqual({ statusCode: 401, error: 'invalid_token', message: 'Invalid or expired access token' });
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });
  });

  describe('logout', () => {
    it('revokes the session: its refresh token and its access tokens stop working', async () => {
      await createUser(t, 'ann@example.com');
      const tokens = await login(t, 'ann@example.com');

      await t.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);

      await refresh(tokens.refresh_token).expect(401);
      await me(tokens.access_token).expect(401);
      const session = await sessionRow(decodeJwt(tokens.access_token).payload.sid as string);
      expect(session.revoked_reason).toBe('logout');
    });

    it.each([
      ['an unknown token', 'B'.repeat(43)],
      ['a malformed token', '???'],
    ])('answers 204 for %s', async (_name, token) => {
      await t.http().post('/auth/logout').send({ refresh_token: token }).expect(204);
    });

    it('answers 204 again for a token whose session has ended', async () => {
      await createUser(t, 'ann@example.com');
      const tokens = await login(t, 'ann@example.com');
      await t.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);

      await t.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
    });
  });
});
