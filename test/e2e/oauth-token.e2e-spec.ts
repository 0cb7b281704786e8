import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type CreatedClient } from '../support/oauth.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

const basic = (id: string, secret: string): [string, string] => ['authorization', `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`];

/**
 * POST /oauth/token at the protocol's edges (RFC 6749 §3.1, §3.2, §5.2), as raw HTTP: what a
 * standard client never sends. The standard clients' own calls are in standard-clients.e2e-spec.ts.
 */
describe('POST /oauth/token', () => {
  let t: TestApp;
  let admin: TokenPair;
  let service: CreatedClient;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    await createUser(t, 'admin@example.com', ['user', 'admin']);
    await createUser(t, 'ann@example.com');
    admin = await login(t, 'admin@example.com');
    service = await createClient(t, admin.access_token, { name: 'svc', scopes: ['read', 'write'], auth_method: 'client_secret_basic' });
  });
  afterAll(() => t.close());

  const token = (form: Record<string, string> | string) => t.http().post('/oauth/token').type('form').send(form);
  const asService = (form: Record<string, string>) => token(form).set(...basic(service.client_id, service.client_secret!));

  const expectOAuthError = (
    res: { status: number; body: Record<string, unknown>; headers: Record<string, string> },
    status: number,
    error: string,
  ) => {
    expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
    expect(res.body.error_description).toEqual(expect.any(String));
    expect(res.headers['cache-control']).toBe('no-store');
  };

  describe('client_credentials', () => {
    it('answers exactly {access_token, token_type, expires_in, scope}, with no-store', async () => {
      const res = await asService({ grant_type: 'client_credentials', scope: 'write' }).expect(200);

      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, scope: 'write' });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
    });

    it('without client authentication: 401 invalid_client, with no Basic challenge when Basic was not tried', async () => {
      const res = await token({ grant_type: 'client_credentials' });

      expectOAuthError(res, 401, 'invalid_client');
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it('the first-party public client may not use it: 400 unauthorized_client', async () => {
      expectOAuthError(await token({ grant_type: 'client_credentials', client_id: 'auth-service' }), 400, 'unauthorized_client');
    });

    it('a registered client naming itself without its secret is invalid_client (it is confidential)', async () => {
      expectOAuthError(await token({ grant_type: 'client_credentials', client_id: service.client_id }), 401, 'invalid_client');
    });

    it('a malformed scope is invalid_scope', async () => {
      expectOAuthError(await asService({ grant_type: 'client_credentials', scope: 'read "write"' }), 400, 'invalid_scope');
    });
  });

  describe('refresh_token: the rotation of /auth/refresh', () => {
    it('one implementation: tokens of either endpoint rotate at the other, and a retry within the grace window gets the same pair', async () => {
      const user = await login(t, 'ann@example.com');

      const viaToken = await token({ grant_type: 'refresh_token', refresh_token: user.refresh_token }).expect(200);
      const retry = await token({ grant_type: 'refresh_token', refresh_token: user.refresh_token }).expect(200);
      const viaRefresh = await t.http().post('/auth/refresh').send({ refresh_token: viaToken.body.refresh_token }).expect(200);
      const back = await token({ grant_type: 'refresh_token', refresh_token: viaRefresh.body.refresh_token, client_id: 'auth-service' }).expect(200);

      expect(retry.body).toEqual(viaToken.body);
      expect(viaToken.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: expect.any(String),
        refresh_expires_in: expect.any(Number),
      });
      expect(back.headers['cache-control']).toBe('no-store');
      await t
        .http()
        .get('/auth/me')
        .set(...bearer(back.body.access_token))
        .expect(200);
    });

    it("a service client presenting a user's refresh token: invalid_grant, and the token is not spent", async () => {
      const user = await login(t, 'ann@example.com');

      expectOAuthError(await asService({ grant_type: 'refresh_token', refresh_token: user.refresh_token }), 400, 'invalid_grant');

      await t.http().post('/auth/refresh').send({ refresh_token: user.refresh_token }).expect(200);
    });

    it('a reused token revokes the family, answered invalid_grant (400) here and 401 at /auth/refresh', async () => {
      const user = await login(t, 'ann@example.com');
      const next = await token({ grant_type: 'refresh_token', refresh_token: user.refresh_token }).expect(200);
      await token({ grant_type: 'refresh_token', refresh_token: next.body.refresh_token }).expect(200);

      expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: user.refresh_token }), 400, 'invalid_grant');
      const refresh = await t.http().post('/auth/refresh').send({ refresh_token: user.refresh_token });
      expect([refresh.status, refresh.body.error]).toEqual([401, 'invalid_grant']);
    });

    it('without refresh_token: invalid_request', async () => {
      expectOAuthError(await token({ grant_type: 'refresh_token' }), 400, 'invalid_request');
    });

    it("a client's access token is not a refresh token: invalid_grant", async () => {
      const access = (await asService({ grant_type: 'client_credentials' }).expect(200)).body.access_token as string;

      expectOAuthError(await token({ grant_type: 'refresh_token', refresh_token: access }), 400, 'invalid_grant');
    });
  });

  describe('the request itself', () => {
    it.each([
      ['password (RFC 9700 §2.4)', { grant_type: 'password', username: 'ann@example.com', password: 'correct horse battery staple' }],
      ['authorization_code', { grant_type: 'authorization_code', code: 'x' }],
      ['a JWT bearer assertion grant', { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'x' }],
      ['something made up', { grant_type: 'magic' }],
    ])('grant %s: unsupported_grant_type', async (_name, form) => {
      expectOAuthError(await token(form), 400, 'unsupported_grant_type');
    });

    it('no grant_type: invalid_request', async () => {
      expectOAuthError(await token({ scope: 'read' }), 400, 'invalid_request');
    });

    it('a parameter sent twice: invalid_request (RFC 6749 §3.1)', async () => {
      expectOAuthError(await token('grant_type=client_credentials&grant_type=refresh_token'), 400, 'invalid_request');
    });

    it('parameters it does not know are ignored (RFC 6749 §3.2)', async () => {
      await asService({ grant_type: 'client_credentials', resource: 'https://orders.example', audience: 'x' }).expect(200);
    });

    it('two client authentication methods at once: invalid_request (RFC 6749 §2.3)', async () => {
      expectOAuthError(
        await asService({ grant_type: 'client_credentials', client_id: service.client_id, client_secret: service.client_secret! }),
        400,
        'invalid_request',
      );
    });

    it('JSON is not the token endpoint’s encoding: 400 invalid_request in RFC 6749 terms', async () => {
      const res = await t.http().post('/oauth/token').send({ grant_type: 'client_credentials' });

      expectOAuthError(res, 400, 'invalid_request');
    });

    it('a control character in a form value: 400 invalid_request, like in JSON bodies', async () => {
      expectOAuthError(await token('grant_type=client_credentials&scope=read%00'), 400, 'invalid_request');
    });

    it('a body over 16 kB: 413', async () => {
      const res = await token({ grant_type: 'client_credentials', scope: 'x'.repeat(17_000) });

      expect(res.status).toBe(413);
      expect(res.headers['cache-control']).toBe('no-store');
    });
  });

  describe('introspection and revocation take the form encoding and the client parameters', () => {
    it('introspection with client_secret_post in a form body', async () => {
      const post = await createClient(t, admin.access_token, { name: 'post', auth_method: 'client_secret_post' });
      const user = await login(t, 'ann@example.com');

      const res = await t
        .http()
        .post('/auth/introspect')
        .type('form')
        .send({ token: user.access_token, token_type_hint: 'access_token', client_id: post.client_id, client_secret: post.client_secret! })
        .expect(200);

      expect(res.body).toMatchObject({ active: true, client_id: 'auth-service' });
    });

    it('revocation with only the first-party client_id (RFC 7009 §2.1), and an unknown client_id is invalid_client', async () => {
      const user = await login(t, 'ann@example.com');

      const unknown = await t.http().post('/auth/revoke').type('form').send({ token: user.refresh_token, client_id: 'nobody' });
      expectOAuthError(unknown, 401, 'invalid_client');
      await t
        .http()
        .post('/auth/revoke')
        .type('form')
        .send({ token: user.refresh_token, token_type_hint: 'refresh_token', client_id: 'auth-service' })
        .expect(200);

      expect((await t.http().post('/auth/refresh').send({ refresh_token: user.refresh_token })).status).toBe(401);
    });

    it("a service client cannot revoke a user's session (not its token): 200 and nothing revoked", async () => {
      const user = await login(t, 'ann@example.com');

      await t
        .http()
        .post('/auth/revoke')
        .set(...basic(service.client_id, service.client_secret!))
        .type('form')
        .send({ token: user.refresh_token })
        .expect(200);

      await t.http().post('/auth/refresh').send({ refresh_token: user.refresh_token }).expect(200);
    });
  });
});
