import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

const CLIENT_ID = 'billing';
const CLIENT_SECRET = 'billing-secret-0123456789abcdef';
const basic = (id: string, secret: string): [string, string] => ['authorization', `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`];

describe('POST /auth/introspect (RFC 7662)', () => {
  let t: TestApp;
  let user: TokenPair;

  beforeAll(async () => {
    await resetDatabase();
    const digest = createHash('sha256').update(CLIENT_SECRET).digest('hex');
    t = await startTestApp({ INTROSPECTION_CLIENTS: `${CLIENT_ID}:${digest}` });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.dataSource.query('TRUNCATE users CASCADE');
    await createUser(t, 'ann@example.com');
    user = await login(t, 'ann@example.com');
  });

  const introspect = (token: string, auth: [string, string] = basic(CLIENT_ID, CLIENT_SECRET)) =>
    t
      .http()
      .post('/auth/introspect')
      .set(...auth)
      .send({ token });

  it('describes a live access token to a service with its credentials', async () => {
    const res = await introspect(user.access_token).expect(200);

    const claims = decodeJwt(user.access_token).payload;
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      active: true,
      token_type: 'access_token',
      username: 'ann@example.com',
      ...claims,
    });
  });

  it('reflects a logout at once', async () => {
    await t.http().post('/auth/logout').send({ refresh_token: user.refresh_token }).expect(204);

    expect((await introspect(user.access_token).expect(200)).body).toEqual({ active: false });
    expect((await introspect(user.refresh_token).expect(200)).body).toEqual({ active: false });
  });

  it('describes a usable refresh token, and not a spent one', async () => {
    const live = await introspect(user.refresh_token).expect(200);
    expect(live.body).toEqual({
      active: true,
      token_type: 'refresh_token',
      sub: decodeJwt(user.access_token).payload.sub,
      sid: decodeJwt(user.access_token).payload.sid,
      amr: ['pwd'],
      exp: expect.any(Number),
    });

    await t.http().post('/auth/refresh').send({ refresh_token: user.refresh_token }).expect(200);
    expect((await introspect(user.refresh_token)).body).toEqual({ active: false });
  });

  it.each([['garbage'], ['a.b.c'], ['A'.repeat(43)]])('answers active:false for %s', async (token) => {
    expect((await introspect(token).expect(200)).body).toEqual({ active: false });
  });

  it('accepts an admin Bearer token instead of service credentials, but not a user one', async () => {
    await createUser(t, 'admin@example.com', ['user', 'admin']);
    const admin = await login(t, 'admin@example.com');

    expect((await introspect(user.access_token, bearer(admin.access_token)).expect(200)).body.active).toBe(true);
    const forbidden = await introspect(user.access_token, bearer(user.access_token));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toBe('insufficient_role');
  });

  it.each([
    ['no credentials', ['x-nothing', '1'] as [string, string]],
    ['a wrong secret', basic(CLIENT_ID, 'wrong')],
    ['an unknown client', basic('search', CLIENT_SECRET)],
    ['a malformed Basic header', ['authorization', 'Basic !!!'] as [string, string]],
  ])('refuses a caller with %s: 401 invalid_client', async (_name, auth) => {
    const res = await introspect(user.access_token, auth);

    expect(res.status).toBe(401);
    // RFC 6749 §5.2, with the contract's statusCode and message beside.
    expect(res.body).toEqual({ statusCode: 401, error: 'invalid_client', error_description: expect.any(String), message: expect.any(String) });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it('accepts the RFC form encoding as well as JSON', async () => {
    const res = await t
      .http()
      .post('/auth/introspect')
      .set(...basic(CLIENT_ID, CLIENT_SECRET))
      .type('form')
      .send({ token: user.access_token, token_type_hint: 'access_token' });

    expect(res.status).toBe(200);
    expect(res.body.active).toBe(true);
  });

  it('refuses a request without a token with 400', async () => {
    const res = await t
      .http()
      .post('/auth/introspect')
      .set(...basic(CLIENT_ID, CLIENT_SECRET))
      .send({});

    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});

describe('GET /.well-known/revocations (the feed for verifiers)', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    const digest = createHash('sha256').update(CLIENT_SECRET).digest('hex');
    t = await startTestApp({ INTROSPECTION_CLIENTS: `${CLIENT_ID}:${digest}` });
    await createUser(t, 'ann@example.com');
  });
  afterAll(() => t.close());

  it('is served to service callers only: it names users and when admins acted on them', async () => {
    const user = await login(t, 'ann@example.com');
    await t.http().post('/auth/logout').send({ refresh_token: user.refresh_token }).expect(204);
    const sid = decodeJwt(user.access_token).payload.sid as string;

    const anonymous = await t.http().get('/.well-known/revocations');
    const asUser = await t
      .http()
      .get('/.well-known/revocations')
      .set(...bearer((await login(t, 'ann@example.com')).access_token));
    const wrongSecret = await t
      .http()
      .get('/.well-known/revocations')
      .set(...basic(CLIENT_ID, 'not-the-secret'));
    const service = await t
      .http()
      .get('/.well-known/revocations')
      .set(...basic(CLIENT_ID, CLIENT_SECRET));

    expect([anonymous.status, anonymous.body.error]).toEqual([401, 'invalid_client']);
    expect(asUser.status).toBe(403);
    expect([wrongSecret.status, wrongSecret.body.error]).toEqual([401, 'invalid_client']);
    expect(service.status).toBe(200);
    expect(service.body.sessions).toContain(sid);
  });
});

describe('POST /auth/revoke (RFC 7009)', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    await createUser(t, 'ann@example.com');
  });
  afterAll(() => t.close());

  it('revokes the session of a refresh token, including its access tokens', async () => {
    const tokens = await login(t, 'ann@example.com');

    await t.http().post('/auth/revoke').send({ token: tokens.refresh_token, token_type_hint: 'refresh_token' }).expect(200);

    await t.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(401);
    await t
      .http()
      .get('/auth/me')
      .set(...bearer(tokens.access_token))
      .expect(401);
  });

  it.each([
    ['an unknown token', 'C'.repeat(43)],
    ['garbage', 'garbage'],
  ])('answers 200 for %s', async (_name, token) => {
    await t.http().post('/auth/revoke').send({ token }).expect(200);
  });
});
