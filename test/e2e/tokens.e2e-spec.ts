import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock.js';
import { KeysService } from '../../src/keys/keys.service.js';
import { decodeJwt } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, PASSWORD, type TokenPair } from '../support/users.js';

describe('token lifecycle', () => {
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
  const me = (accessToken: string) => t.http().get('/auth/me').set(...bearer(accessToken));
  const sessionRow = async (sid: string) => (await t.dataSource.query('SELECT * FROM sessions WHERE id = $1', [sid]))[0];

  describe('login', () => {
    it('returns an RFC 6749 token response with no-store and an RFC 9068 access token', async () => {
      const userId = await createUser(t, 'ann@example.com');

      const res = await t.http().post('/auth/login').send({ email: ' ANN@example.com', password: PASSWORD });

      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        refresh_expires_in: 1_209_600,
      });
      const { header, payload } = decodeJwt(res.body.access_token);
      const { kid } = t.app.get(KeysService).signingKey();
      expect(header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid });
      expect(payload).toEqual({
        iss: 'http://auth.test',
        aud: 'auth-service',
        sub: userId,
        // RFC 9068 §2.2: the first-party client (FIRST_PARTY_CLIENT_ID, default JWT_AUDIENCE)
        client_id: 'auth-service',
        iat: expect.any(Number),
        nbf: expect.any(Number),
        exp: (payload.iat as number) + 900,
        jti: expect.any(String),
        sid: expect.any(String),
        roles: ['user'],
        email: 'ann@example.com',
        gen: 0,
        email_verified: false,
      });
    });

    it('records the session with its client address and user agent, and stores only a hash of the refresh token', async () => {
      await createUser(t, 'ann@example.com');

      const res = await t.http().post('/auth/login').set('user-agent', 'test-agent/1.0').send({ email: 'ann@example.com', password: PASSWORD });

      const sid = decodeJwt(res.body.access_token).payload.sid as string;
      const session = await sessionRow(sid);
      expect(session).toMatchObject({ ip: '127.0.0.1', user_agent: 'test-agent/1.0', revoked_at: null });
      const dump = JSON.stringify(await t.dataSource.query('SELECT * FROM refresh_tokens'));
      expect(dump).not.toContain(res.body.refresh_token);
    });

    it('answers an unknown email and a wrong password identically', async () => {
      await createUser(t, 'ann@example.com');

      const unknown = await t.http().post('/auth/login').send({ email: 'nobody@example.com', password: PASSWORD });
      const wrong = await t.http().post('/auth/login').send({ email: 'ann@example.com', password: 'wrong password' });

      expect(unknown.status).toBe(401);
      expect(wrong.status).toBe(401);
      expect(unknown.body).toEqual({ statusCode: 401, error: 'invalid_credentials', message: 'Invalid email or password' });
      expect(wrong.body).toEqual(unknown.body);
    });

    it('refuses a disabled user with the same 401 invalid_credentials', async () => {
      const id = await createUser(t, 'ann@example.com');
      await t.dataSource.query('UPDATE users SET disabled = true WHERE id = $1', [id]);

      const res = await t.http().post('/auth/login').send({ email: 'ann@example.com', password: PASSWORD });

      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_credentials');
      expect(await t.dataSource.query('SELECT id FROM sessions')).toEqual([]);
    });

    it.each([
      ['missing password', { email: 'ann@example.com' }],
      ['password over 1024 characters', { email: 'ann@example.com', password: 'a'.repeat(1025) }],
      ['email of the wrong type', { email: ['ann@example.com'], password: PASSWORD }],
      ['extra field', { email: 'ann@example.com', password: PASSWORD, roles: ['admin'] }],
    ])('refuses a malformed body (%s) with 400 invalid_request and opens no session', async (_name, body) => {
      await createUser(t, 'ann@example.com');

      const res = await t.http().post('/auth/login').send(body);

      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(await t.dataSource.query('SELECT id FROM sessions')).toEqual([]);
    });
  });

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

  describe('role guard', () => {
    it('answers 401 without a token, 403 insufficient_role without the role, 200 with it', async () => {
      await createUser(t, 'user@example.com');
      await createUser(t, 'admin@example.com', ['user', 'admin']);
      const user = await login(t, 'user@example.com');
      const admin = await login(t, 'admin@example.com');

      await t.http().get('/admin/keys').expect(401);
      const forbidden = await t.http().get('/admin/keys').set(...bearer(user.access_token));
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toEqual({ statusCode: 403, error: 'insufficient_role', message: expect.any(String) });
      const allowed = await t.http().get('/admin/keys').set(...bearer(admin.access_token));
      expect(allowed.status).toBe(200);
      expect(allowed.body.items).toEqual([
        { kid: expect.any(String), state: 'active', created_at: expect.any(String), activates_at: expect.any(String), retires_at: null },
      ]);
    });
  });
});
