import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, PASSWORD, type TokenPair } from '../support/users.js';

describe('admin routes', () => {
  let t: TestApp;
  let admin: TokenPair;
  let adminId: string;
  let user: TokenPair;
  let userId: string;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.dataSource.query('TRUNCATE users CASCADE');
    adminId = await createUser(t, 'admin@example.com', ['user', 'admin']);
    userId = await createUser(t, 'user@example.com');
    admin = await login(t, 'admin@example.com');
    user = await login(t, 'user@example.com');
  });

  const as = (tokens: TokenPair) => bearer(tokens.access_token);
  const sidOf = (tokens: TokenPair) => decodeJwt(tokens.access_token).payload.sid as string;

  describe('route matrix', () => {
    const routes: Array<[string, string, (ids: { userId: string; sid: string }) => string, object | undefined, number]> = [
      ['GET', 'list users', () => '/admin/users', undefined, 200],
      ['PATCH', 'update a user', ({ userId }) => `/admin/users/${userId}`, { roles: ['user', 'auditor'] }, 200],
      ['GET', "list a user's sessions", ({ userId }) => `/admin/users/${userId}/sessions`, undefined, 200],
      ['DELETE', "revoke a user's sessions", ({ userId }) => `/admin/users/${userId}/sessions`, undefined, 204],
      ['DELETE', 'revoke a session', ({ sid }) => `/admin/sessions/${sid}`, undefined, 204],
      ['GET', 'read the audit trail', () => '/admin/audit', undefined, 200],
      ['GET', 'list signing keys', () => '/admin/keys', undefined, 200],
      ['POST', 'rotate the signing key', () => '/admin/keys/rotate', undefined, 202],
    ];

    it.each(routes)('%s (%s): 401 without a token, 403 for a user, %i for an admin', async (method, _name, path, body, success) => {
      const url = path({ userId, sid: sidOf(user) });
      const send = (headers?: [string, string]) => {
        const req = t.http()[method.toLowerCase() as 'get'](url);
        if (headers) req.set(...headers);
        return body ? req.send(body) : req;
      };

      const anonymous = await send();
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('invalid_token');
      const forbidden = await send(as(user));
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.error).toBe('insufficient_role');
      expect((await send(as(admin))).status).toBe(success);
    });
  });

  describe('GET /admin/users', () => {
    it('pages through users in email order with a cursor', async () => {
      for (const name of ['carol', 'dave', 'erin']) await createUser(t, `${name}@example.com`);

      const first = await t
        .http()
        .get('/admin/users?limit=2')
        .set(...as(admin))
        .expect(200);
      expect(first.body.items.map((u: { email: string }) => u.email)).toEqual(['admin@example.com', 'carol@example.com']);
      expect(first.body.items[0]).toEqual({
        id: adminId,
        email: 'admin@example.com',
        roles: ['user', 'admin'],
        disabled: false,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      const second = await t
        .http()
        .get(`/admin/users?limit=2&cursor=${first.body.next_cursor}`)
        .set(...as(admin))
        .expect(200);
      const third = await t
        .http()
        .get(`/admin/users?limit=2&cursor=${second.body.next_cursor}`)
        .set(...as(admin))
        .expect(200);

      expect(second.body.items.map((u: { email: string }) => u.email)).toEqual(['dave@example.com', 'erin@example.com']);
      expect(third.body).toEqual({ items: [expect.objectContaining({ email: 'user@example.com' })], next_cursor: null });
    });

    it('filters by a literal email prefix, case-insensitively', async () => {
      await createUser(t, 'us_er@example.com');

      const res = await t
        .http()
        .get('/admin/users?email=US_')
        .set(...as(admin))
        .expect(200);

      expect(res.body.items.map((u: { email: string }) => u.email)).toEqual(['us_er@example.com']);
    });

    it.each([['limit=0'], ['limit=1000'], ['limit=abc'], ['cursor=not-a-cursor'], ['unknown=1']])(
      'refuses ?%s with 400 invalid_request',
      async (query) => {
        const res = await t
          .http()
          .get(`/admin/users?${query}`)
          .set(...as(admin));

        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid_request');
      },
    );
  });

  describe('PATCH /admin/users/:id', () => {
    it('changes roles, refuses the old token on admin routes at once, and the next refresh carries the new roles', async () => {
      const secondAdminId = await createUser(t, 'second@example.com', ['user', 'admin']);
      const second = await login(t, 'second@example.com');
      await t
        .http()
        .get('/admin/users')
        .set(...as(second))
        .expect(200);

      const res = await t
        .http()
        .patch(`/admin/users/${secondAdminId}`)
        .set(...as(admin))
        .send({ roles: ['user'] });

      expect(res.status).toBe(200);
      expect(res.body.roles).toEqual(['user']);
      await t
        .http()
        .get('/admin/users')
        .set(...as(second))
        .expect(401);
      const refreshed = (await t.http().post('/auth/refresh').send({ refresh_token: second.refresh_token }).expect(200)).body;
      expect(decodeJwt(refreshed.access_token).payload.roles).toEqual(['user']);
      await t
        .http()
        .get('/auth/me')
        .set(...bearer(refreshed.access_token))
        .expect(200);
      await t
        .http()
        .get('/admin/users')
        .set(...bearer(refreshed.access_token))
        .expect(403);
    });

    it('disabling ends every session: access tokens, refresh and login all refused', async () => {
      const res = await t
        .http()
        .patch(`/admin/users/${userId}`)
        .set(...as(admin))
        .send({ disabled: true });

      expect(res.status).toBe(200);
      expect(res.body.disabled).toBe(true);
      await t
        .http()
        .get('/auth/me')
        .set(...as(user))
        .expect(401);
      await t.http().post('/auth/refresh').send({ refresh_token: user.refresh_token }).expect(401);
      await t.http().post('/auth/login').send({ email: 'user@example.com', password: PASSWORD }).expect(401);
      const [session] = await t.dataSource.query('SELECT revoked_reason FROM sessions WHERE id = $1', [sidOf(user)]);
      expect(session.revoked_reason).toBe('user_disabled');
    });

    it('re-enabling lets the user log in again', async () => {
      await t
        .http()
        .patch(`/admin/users/${userId}`)
        .set(...as(admin))
        .send({ disabled: true })
        .expect(200);
      await t
        .http()
        .patch(`/admin/users/${userId}`)
        .set(...as(admin))
        .send({ disabled: false })
        .expect(200);

      await login(t, 'user@example.com');
    });

    it('refuses to let an admin disable themselves (409) and changes nothing', async () => {
      const res = await t
        .http()
        .patch(`/admin/users/${adminId}`)
        .set(...as(admin))
        .send({ disabled: true });

      expect(res.status).toBe(409);
      expect(res.body.error).toBe('conflict');
      await t
        .http()
        .get('/admin/users')
        .set(...as(admin))
        .expect(200);
    });

    it('refuses to remove the last active admin role (409)', async () => {
      const res = await t
        .http()
        .patch(`/admin/users/${adminId}`)
        .set(...as(admin))
        .send({ roles: ['user'] });

      expect(res.status).toBe(409);
      const [row] = await t.dataSource.query('SELECT roles FROM users WHERE id = $1', [adminId]);
      expect(row.roles).toEqual(['user', 'admin']);
    });

    it('lets an admin step down while another admin remains', async () => {
      await createUser(t, 'second@example.com', ['user', 'admin']);

      await t
        .http()
        .patch(`/admin/users/${adminId}`)
        .set(...as(admin))
        .send({ roles: ['user'] })
        .expect(200);
    });

    it.each([
      ['roles of the wrong type', { roles: 'admin' }],
      ['a malformed role', { roles: ['Admin!'] }],
      ['disabled of the wrong type', { disabled: 'yes' }],
      ['an unknown field', { email: 'x@example.com' }],
    ])('refuses %s with 400 and writes nothing', async (_name, body) => {
      const res = await t
        .http()
        .patch(`/admin/users/${userId}`)
        .set(...as(admin))
        .send(body);

      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      const [row] = await t.dataSource.query('SELECT roles, disabled, email FROM users WHERE id = $1', [userId]);
      expect(row).toEqual({ roles: ['user'], disabled: false, email: 'user@example.com' });
    });

    it('answers 404 for an unknown user and 400 for a malformed id', async () => {
      await t
        .http()
        .patch(`/admin/users/${randomUUID()}`)
        .set(...as(admin))
        .send({ disabled: true })
        .expect(404);
      const malformed = await t
        .http()
        .patch('/admin/users/not-a-uuid')
        .set(...as(admin))
        .send({ disabled: true });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toBe('invalid_request');
    });
  });

  describe('sessions', () => {
    it("lists a user's sessions", async () => {
      const res = await t
        .http()
        .get(`/admin/users/${userId}/sessions`)
        .set(...as(admin))
        .expect(200);

      expect(res.body.items).toEqual([
        {
          id: sidOf(user),
          created_at: expect.any(String),
          last_used_at: expect.any(String),
          expires_at: expect.any(String),
          ip: '127.0.0.1',
          user_agent: null,
          revoked_at: null,
        },
      ]);
    });

    it('DELETE /admin/sessions/:sid stops the refresh token and the access tokens at once', async () => {
      await t
        .http()
        .delete(`/admin/sessions/${sidOf(user)}`)
        .set(...as(admin))
        .expect(204);

      await t
        .http()
        .get('/auth/me')
        .set(...as(user))
        .expect(401);
      await t.http().post('/auth/refresh').send({ refresh_token: user.refresh_token }).expect(401);
      await t
        .http()
        .delete(`/admin/sessions/${sidOf(user)}`)
        .set(...as(admin))
        .expect(204);
    });

    it('DELETE /admin/sessions/:sid answers 404 for an unknown id and 400 for a malformed one, revoking nothing', async () => {
      const unknown = await t
        .http()
        .delete(`/admin/sessions/${randomUUID()}`)
        .set(...as(admin));
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe('not_found');
      const malformed = await t
        .http()
        .delete(`/admin/sessions/1' OR '1'='1`)
        .set(...as(admin));
      expect(malformed.status).toBe(400);
      expect(await t.dataSource.query('SELECT id FROM sessions WHERE revoked_at IS NOT NULL')).toEqual([]);
    });

    it('DELETE /admin/users/:id/sessions ends every session of the user', async () => {
      const other = await login(t, 'user@example.com');

      await t
        .http()
        .delete(`/admin/users/${userId}/sessions`)
        .set(...as(admin))
        .expect(204);

      for (const tokens of [user, other]) {
        await t
          .http()
          .get('/auth/me')
          .set(...as(tokens))
          .expect(401);
        await t.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(401);
      }
      await t
        .http()
        .get('/auth/me')
        .set(...as(admin))
        .expect(200);
    });
  });

  describe('audit trail', () => {
    it('records each kind of event, and no password, token or hash', async () => {
      await t.http().post('/auth/login').send({ email: 'user@example.com', password: 'wrong password' }).expect(401);
      const second = await login(t, 'user@example.com');
      const rotated = (await t.http().post('/auth/refresh').send({ refresh_token: second.refresh_token }).expect(200)).body;
      await t.http().post('/auth/refresh').send({ refresh_token: rotated.refresh_token }).expect(200);
      await t.http().post('/auth/refresh').send({ refresh_token: second.refresh_token }).expect(401);
      await t
        .http()
        .delete(`/admin/sessions/${sidOf(user)}`)
        .set(...as(admin))
        .expect(204);
      await t
        .http()
        .patch(`/admin/users/${userId}`)
        .set(...as(admin))
        .send({ roles: ['user', 'auditor'] })
        .expect(200);
      await t
        .http()
        .patch(`/admin/users/${userId}`)
        .set(...as(admin))
        .send({ disabled: true })
        .expect(200);
      await t
        .http()
        .patch(`/admin/users/${userId}`)
        .set(...as(admin))
        .send({ disabled: false })
        .expect(200);
      await t
        .http()
        .delete(`/admin/users/${userId}/sessions`)
        .set(...as(admin))
        .expect(204);
      await t
        .http()
        .post('/admin/keys/rotate')
        .set(...as(admin))
        .expect(202);

      const types = new Set<string>();
      let cursor: string | null = null;
      do {
        const page: { body: { items: Array<{ type: string }>; next_cursor: string | null } } = await t
          .http()
          .get(`/admin/audit?limit=5${cursor ? `&cursor=${cursor}` : ''}`)
          .set(...as(admin))
          .expect(200);
        for (const event of page.body.items) types.add(event.type);
        cursor = page.body.next_cursor;
      } while (cursor !== null);
      expect([...types].sort()).toEqual(
        [
          // every registration mails a verification link
          'email_verification_sent',
          'key_rotated',
          'login_failed',
          'login_succeeded',
          'refresh_reuse_detected',
          'roles_changed',
          'session_revoked',
          'user_disabled',
          'user_enabled',
          'user_sessions_revoked',
        ].sort(),
      );

      const trail = JSON.stringify(await t.dataSource.query('SELECT * FROM audit_events'));
      const [{ password_hash }] = await t.dataSource.query('SELECT password_hash FROM users WHERE id = $1', [userId]);
      for (const secret of [PASSWORD, 'wrong password', password_hash, second.refresh_token, rotated.refresh_token, second.access_token]) {
        expect(trail).not.toContain(secret);
      }
    });

    it('filters by user and type', async () => {
      await t.http().post('/auth/login').send({ email: 'user@example.com', password: 'wrong password' }).expect(401);

      const res = await t
        .http()
        .get(`/admin/audit?user=${userId}&type=login_failed`)
        .set(...as(admin))
        .expect(200);

      expect(res.body.items).toEqual([
        expect.objectContaining({ type: 'login_failed', user_id: userId, ip: '127.0.0.1', details: { reason: 'wrong_password' } }),
      ]);
    });

    it('refuses to rewrite history: the table is append-only', async () => {
      await expect(t.dataSource.query(`UPDATE audit_events SET type = 'login_succeeded'`)).rejects.toThrow(/append-only/);
      await expect(t.dataSource.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    });
  });
});

describe('first admin from BOOTSTRAP_ADMIN_EMAIL/PASSWORD', () => {
  const env = { BOOTSTRAP_ADMIN_EMAIL: 'Root@Example.com', BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap password' };

  beforeEach(() => resetDatabase());

  it('creates the admin when none exists, and only then', async () => {
    const first = await startTestApp(env);
    const tokens = (await first.http().post('/auth/login').send({ email: 'root@example.com', password: 'bootstrap password' }).expect(200)).body;
    expect(decodeJwt(tokens.access_token).payload.roles).toEqual(['user', 'admin']);
    await first.close();

    const second = await startTestApp({ ...env, BOOTSTRAP_ADMIN_EMAIL: 'other@example.com' });
    expect(await second.dataSource.query(`SELECT email FROM users WHERE 'admin' = ANY(roles)`)).toEqual([{ email: 'root@example.com' }]);
    await second.close();
  });

  it('never promotes an account that already has the email', async () => {
    const before = await startTestApp();
    await createUser(before, 'root@example.com');
    await before.close();

    const after = await startTestApp(env);

    expect(await after.dataSource.query(`SELECT email FROM users WHERE 'admin' = ANY(roles)`)).toEqual([]);
    await after.close();
  });
});
