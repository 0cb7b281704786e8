import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, PASSWORD } from '../support/users.js';

const LEAKS = /at .*\.(js|ts):\d+|SELECT|INSERT|UPDATE|relation|QueryFailedError|ECONNREFUSED|postgres|node_modules|FST_/i;

describe('attack suite: input and headers', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    await createUser(t, 'user@example.com');
  });
  afterAll(() => t.close());

  const userCount = async () => (await t.dataSource.query('SELECT count(*)::int AS n FROM users'))[0].n as number;
  const registerRaw = (body: string, type = 'application/json') => t.http().post('/auth/register').set('content-type', type).send(body);

  it('body over the 16 kB limit: 413 before it is read', async () => {
    const res = await registerRaw(JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(20_000) }));
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
    expect(await userCount()).toBe(1);
  });

  it('deeply nested JSON: refused cleanly, nothing written', async () => {
    const res = await registerRaw(`{"email":${'['.repeat(4000)}${']'.repeat(4000)},"password":"${PASSWORD}"}`);
    expect(res.status).toBe(400);
    expect(await userCount()).toBe(1);
  });

  it.each([
    ['truncated JSON', '{"email": "a@example.com", '],
    ['trailing garbage', '{"email": "a@example.com"} xyz'],
    ['single quotes', "{'email': 'a@example.com'}"],
    ['a bare string', '"just a string"'],
  ])('malformed JSON (%s): 400 invalid_request', async (_name, body) => {
    const res = await registerRaw(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(JSON.stringify(res.body)).not.toMatch(LEAKS);
  });

  it('prototype pollution through __proto__ in JSON: refused', async () => {
    const res = await registerRaw(`{"email":"proto@example.com","password":"${PASSWORD}","__proto__":{"admin":true}}`);
    expect(res.status).toBe(400);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it.each([
    ['form encoding on a JSON route', `email=form%40example.com&password=${encodeURIComponent(PASSWORD)}`, 'application/x-www-form-urlencoded'],
    ['text/plain', JSON.stringify({ email: 'text@example.com', password: PASSWORD }), 'text/plain'],
    ['XML', '<user><email>x@example.com</email></user>', 'application/xml'],
  ])('%s: 415, nothing written', async (_name, body, type) => {
    const res = await registerRaw(body, type);
    expect(res.status).toBe(415);
    expect(res.body.error).toBe('invalid_request');
    expect(await userCount()).toBe(1);
  });

  it('security headers on every response, no X-Powered-By', async () => {
    const res = await t.http().get('/health/live');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('token responses are never cached', async () => {
    const tokens = await t.http().post('/auth/login').send({ email: 'user@example.com', password: PASSWORD }).expect(200);
    expect(tokens.headers['cache-control']).toBe('no-store');
    expect(tokens.headers.pragma).toBe('no-cache');
  });

  it('CORS is off by default: no Access-Control-Allow-Origin for any origin', async () => {
    const res = await t.http().get('/health/live').set('origin', 'https://evil.example');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.http().options('/auth/login').set('origin', 'https://evil.example').set('access-control-request-method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('CORS with an allow-list: only listed origins are echoed, never "*" or the asking origin', async () => {
    const cors = await startTestApp({ CORS_ORIGINS: 'https://app.example.com' });
    try {
      const allowed = await cors.http().get('/health/live').set('origin', 'https://app.example.com');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(allowed.headers['access-control-allow-credentials']).toBe('true');
      const refused = await cors.http().get('/health/live').set('origin', 'https://evil.example');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      const lookalike = await cors.http().get('/health/live').set('origin', 'https://app.example.com.evil.example');
      expect(lookalike.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await cors.close();
    }
  });

  it('unknown routes: contract-shaped 404 that does not echo the path', async () => {
    const res = await t.http().get('/admin/../../etc/passwd%00');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'not_found', message: 'Not found' });
  });

  describe('input that means one thing (issue 14)', () => {
    let adminToken: string;
    beforeAll(async () => {
      await createUser(t, 'admin@example.com', ['user', 'admin']);
      adminToken = (await login(t, 'admin@example.com')).access_token;
    });
    const expectRefused = (res: { status: number; body: unknown }) => {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'invalid_request', message: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toMatch(LEAKS);
    };
    const loginRaw = (body: string) => t.http().post('/auth/login').set('content-type', 'application/json').send(body);

    it.each([
      ['NUL', '\\u0000'],
      ['a C0 control', '\\u0001'],
      ['DEL', '\\u007f'],
      ['a C1 control', '\\u0085'],
    ])('%s in the login email: 400 invalid_request, never 500', async (_name, escape) => {
      expectRefused(await loginRaw(`{"email":"user${escape}@example.com","password":"${PASSWORD}"}`));
    });

    it('NUL in the password: 400 invalid_request', async () => {
      expectRefused(await loginRaw(`{"email":"user@example.com","password":"${PASSWORD}\\u0000"}`));
    });

    it('a lone surrogate in the login password: 400, not hashed as U+FFFD', async () => {
      expectRefused(await loginRaw(`{"email":"user@example.com","password":"\\ud800${PASSWORD}"}`));
      expectRefused(await loginRaw(`{"email":"user@example.com","password":"${PASSWORD}\\udfff"}`));
    });

    it('registering with a lone surrogate in the password: 400, nothing written', async () => {
      const before = await userCount();
      expectRefused(await registerRaw(`{"email":"surrogate@example.com","password":"\\udc00${PASSWORD}"}`));
      expect(await userCount()).toBe(before);
    });

    it.each([
      ['a zero-width space', 'admin\u200b@example.com'],
      ['a zero-width joiner', 'ad\u200dmin@example.com'],
      ['a soft hyphen', 'ad\u00admin@example.com'],
      ['a right-to-left override', 'admin\u202e@example.com'],
    ])('a look-alike account with %s: 400, nothing written', async (_name, email) => {
      const before = await userCount();
      expectRefused(await t.http().post('/auth/register').send({ email, password: PASSWORD }));
      expect(await userCount()).toBe(before);
    });

    it('NUL or a control character in the admin email filter: 400, never 500', async () => {
      expectRefused(
        await t
          .http()
          .get('/admin/users?email=us%00er')
          .set(...bearer(adminToken)),
      );
      expectRefused(
        await t
          .http()
          .get('/admin/users?email=%01')
          .set(...bearer(adminToken)),
      );
      expectRefused(
        await t
          .http()
          .get('/admin/users?email=ad%E2%80%8Bmin')
          .set(...bearer(adminToken)),
      );
    });

    it('NUL in a cursor, raw or inside its encoding: 400, never 500', async () => {
      const crafted = Buffer.from(JSON.stringify(['user\u0000@example.com'])).toString('base64url');
      expectRefused(
        await t
          .http()
          .get(`/admin/users?cursor=${crafted}`)
          .set(...bearer(adminToken)),
      );
      expectRefused(
        await t
          .http()
          .get('/admin/users?cursor=%00')
          .set(...bearer(adminToken)),
      );
      const auditCursor = Buffer.from(JSON.stringify(['2020-01-01T00:00:00.000Z\u0000', '00000000-0000-4000-8000-000000000000'])).toString(
        'base64url',
      );
      expectRefused(
        await t
          .http()
          .get(`/admin/audit?cursor=${auditCursor}`)
          .set(...bearer(adminToken)),
      );
    });

    it.each([101, 300, 5000])('a %s-character path id: 400 in the contract shape, not Fastify 414', async (length) => {
      const res = await t
        .http()
        .get(`/admin/users/${'a'.repeat(length)}/sessions`)
        .set(...bearer(adminToken));
      expectRefused(res);
      expect(JSON.stringify(res.body)).not.toContain('aaaa');
    });
  });

  it('header injection through a user agent is not reflected', async () => {
    const res = await t.http().get('/health/live').set('user-agent', 'x\tInjected: yes');
    expect(res.headers.injected).toBeUndefined();
  });

  it('with the database stopped: errors keep the contract shape and leak nothing', async () => {
    const broken = await startTestApp();
    const tokens = await login(broken, 'user@example.com');
    await broken.dataSource.destroy();
    try {
      const responses = await Promise.all([
        broken.http().post('/auth/login').send({ email: 'user@example.com', password: PASSWORD }),
        broken.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }),
        broken.http().post('/auth/register').send({ email: 'new@example.com', password: PASSWORD }),
        broken.http().get('/health/ready'),
      ]);
      for (const res of responses) {
        expect(res.status).toBeGreaterThanOrEqual(500);
        expect(Object.keys(res.body).sort()).toEqual(['error', 'message', 'statusCode']);
        expect(JSON.stringify(res.body)).not.toMatch(LEAKS);
      }
      // Verification needs no database: a valid access token still works.
      await broken.http().get('/auth/me').set('authorization', `Bearer ${tokens.access_token}`).expect(200);
    } finally {
      await broken.app.getHttpAdapter().close();
    }
  });
});
