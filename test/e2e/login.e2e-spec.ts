import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeysService } from '../../src/keys/keys.service.js';
import { decodeJwt } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { createUser, PASSWORD } from '../support/users.js';

describe('POST /auth/login', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.dataSource.query('TRUNCATE users CASCADE');
  });
  afterEach(() => vi.restoreAllMocks());

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
        // RFC 8176: a password alone (a login with TOTP says ["pwd", "otp"])
        amr: ['pwd'],
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
});
