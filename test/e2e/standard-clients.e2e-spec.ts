import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import jwksRsa from 'jwks-rsa';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { Passport } from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock.js';
import { decodeJwt, forgeJwt, otherRsaKey, rs256With } from '../support/jwt.js';
import {
  assertionKeyPair,
  baseUrl,
  createClient,
  discoverWithOauth4webapi,
  discoverWithOpenidClient,
  oauth4Options,
  oauthErrorOf,
  serveJwks,
  TEST_ISSUER,
  type CreatedClient,
} from '../support/oauth.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

/** FIRST_PARTY_CLIENT_ID's default (JWT_AUDIENCE): the client_id of sessions opened by /auth/login. */
const FIRST_PARTY = 'auth-service';
const SCOPES = ['orders:read', 'orders:write'];

/**
 * The service driven by the two most used standards-grade OAuth clients, oauth4webapi and
 * openid-client v6, with their own client authentication helpers, and by passport-jwt + jwks-rsa
 * as a NestJS-style resource server would trust tokens. Every request below is made by a library.
 */
describe('standard OAuth clients against the service', () => {
  let t: TestApp;
  let base: string;
  let as: oauth.AuthorizationServer;
  let admin: TokenPair;
  let basicClient: CreatedClient;
  let postClient: CreatedClient;
  let jwtClient: CreatedClient;
  let jwtUriClient: CreatedClient;
  let jwtKey: Awaited<ReturnType<typeof assertionKeyPair>>;
  let jwtUriKey: Awaited<ReturnType<typeof assertionKeyPair>>;
  let jwksServer: Awaited<ReturnType<typeof serveJwks>>;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    base = await baseUrl(t);
    await createUser(t, 'admin@example.com', ['user', 'admin']);
    await createUser(t, 'ann@example.com');
    admin = await login(t, 'admin@example.com');
    jwtKey = await assertionKeyPair('ES256');
    jwtUriKey = await assertionKeyPair('RS256');
    jwksServer = await serveJwks([jwtUriKey.publicJwk]);
    basicClient = await createClient(t, admin.access_token, { name: 'orders-basic', scopes: SCOPES, auth_method: 'client_secret_basic' });
    postClient = await createClient(t, admin.access_token, {
      name: 'billing-post',
      scopes: SCOPES,
      roles: ['billing'],
      auth_method: 'client_secret_post',
    });
    jwtClient = await createClient(t, admin.access_token, {
      name: 'reports-jwt',
      scopes: SCOPES,
      auth_method: 'private_key_jwt',
      jwks: { keys: [jwtKey.publicJwk] },
    });
    jwtUriClient = await createClient(t, admin.access_token, {
      name: 'audit-jwks-uri',
      scopes: SCOPES,
      auth_method: 'private_key_jwt',
      jwks_uri: jwksServer.url,
    });
    as = await discoverWithOauth4webapi(base);
  });
  afterAll(async () => {
    await jwksServer.close();
    await t.close();
  });
  afterEach(() => vi.restoreAllMocks());

  const basicAuth = (c: CreatedClient = basicClient) => oauth.ClientSecretBasic(c.client_secret!);
  const oauth4ClientCredentials = async (c: CreatedClient, auth: oauth.ClientAuth, scope?: string) => {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      { client_id: c.client_id },
      auth,
      scope === undefined ? {} : { scope },
      oauth4Options(base),
    );
    return oauth.processClientCredentialsResponse(as, { client_id: c.client_id }, response);
  };
  const me = (token: string) =>
    t
      .http()
      .get('/auth/me')
      .set(...bearer(token));

  describe('discovery', () => {
    it('oauth4webapi reads the RFC 8414 metadata: the token endpoint, its grants and client authentication methods', () => {
      expect(as).toMatchObject({
        issuer: TEST_ISSUER,
        token_endpoint: `${TEST_ISSUER}/oauth/token`,
        introspection_endpoint: `${TEST_ISSUER}/auth/introspect`,
        revocation_endpoint: `${TEST_ISSUER}/auth/revoke`,
        grant_types_supported: ['refresh_token', 'client_credentials'],
        token_endpoint_auth_methods_supported: expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt']),
      });
      expect(as.id_token_signing_alg_values_supported).toBeUndefined();
    });

    it('openid-client v6 discovers the same through the OpenID Connect path', async () => {
      const config = await discoverWithOpenidClient(base, postClient.client_id, client.ClientSecretPost(postClient.client_secret!));
      expect(config.serverMetadata()).toMatchObject({ issuer: TEST_ISSUER, token_endpoint: `${TEST_ISSUER}/oauth/token` });
      expect(config.serverMetadata().supportsPKCE()).toBe(false);
    });
  });

  describe('client credentials, with each client authentication method', () => {
    it('client_secret_basic (oauth4webapi): an RFC 9068 token with sub = client_id, the scope asked for, no roles, no refresh token', async () => {
      const tokens = await oauth4ClientCredentials(basicClient, basicAuth(), 'orders:read');

      expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'orders:read' });
      expect(tokens.refresh_token).toBeUndefined();
      const { header, payload } = decodeJwt(tokens.access_token);
      expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
      expect(payload).toMatchObject({
        iss: TEST_ISSUER,
        aud: 'auth-service',
        sub: basicClient.client_id,
        client_id: basicClient.client_id,
        scope: 'orders:read',
      });
      expect(payload).not.toHaveProperty('roles');
      expect(payload).not.toHaveProperty('sid');
      expect((await me(tokens.access_token).expect(200)).body).toEqual({
        id: basicClient.client_id,
        client_id: basicClient.client_id,
        roles: [],
        scope: 'orders:read',
      });
    });

    it('client_secret_post (openid-client): every scope of the client when none is asked for, and its roles', async () => {
      const config = await discoverWithOpenidClient(base, postClient.client_id, client.ClientSecretPost(postClient.client_secret!));

      const tokens = await client.clientCredentialsGrant(config);

      expect(tokens.scope).toBe('orders:read orders:write');
      expect(tokens.refresh_token).toBeUndefined();
      expect(decodeJwt(tokens.access_token).payload).toMatchObject({
        sub: postClient.client_id,
        client_id: postClient.client_id,
        roles: ['billing'],
      });
    });

    it('private_key_jwt with a registered key set (oauth4webapi PrivateKeyJwt, ES256)', async () => {
      const tokens = await oauth4ClientCredentials(jwtClient, oauth.PrivateKeyJwt({ key: jwtKey.privateKey, kid: jwtKey.kid }), 'orders:write');

      expect(decodeJwt(tokens.access_token).payload).toMatchObject({ sub: jwtClient.client_id, scope: 'orders:write' });
    });

    it('private_key_jwt with a jwks_uri (openid-client PrivateKeyJwt, RS256): the key set is fetched once and cached', async () => {
      const config = await discoverWithOpenidClient(
        base,
        jwtUriClient.client_id,
        client.PrivateKeyJwt({ key: jwtUriKey.privateKey, kid: jwtUriKey.kid }),
      );

      const first = await client.clientCredentialsGrant(config, { scope: 'orders:read' });
      const second = await client.clientCredentialsGrant(config, { scope: 'orders:read' });

      for (const tokens of [first, second]) expect(decodeJwt(tokens.access_token).payload.sub).toBe(jwtUriClient.client_id);
      expect(jwksServer.fetches()).toBe(1);
    });

    it('a scope the client was not given is invalid_scope (openid-client)', async () => {
      const config = await discoverWithOpenidClient(base, postClient.client_id, client.ClientSecretPost(postClient.client_secret!));

      expect(await oauthErrorOf(client.clientCredentialsGrant(config, { scope: 'orders:read admin' }))).toEqual({
        error: 'invalid_scope',
        status: 400,
      });
    });

    it('a client may use only the method it was registered with: basic client with client_secret_post is invalid_client', async () => {
      const config = await discoverWithOpenidClient(base, basicClient.client_id, client.ClientSecretPost(basicClient.client_secret!));

      expect(await oauthErrorOf(client.clientCredentialsGrant(config))).toEqual({ error: 'invalid_client', status: 401 });
    });

    it('a wrong secret over Basic is 401 invalid_client with a Basic challenge (oauth4webapi reports the challenge)', async () => {
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        { client_id: basicClient.client_id },
        oauth.ClientSecretBasic('wrong'),
        {},
        oauth4Options(base),
      );

      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const error = await oauth
        .processClientCredentialsResponse(as, { client_id: basicClient.client_id }, response)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    });
  });

  describe('RFC 9068 validation with oauth4webapi validateJwtAccessToken', () => {
    const validate = (token: string) =>
      oauth.validateJwtAccessToken(
        as,
        new Request('https://orders.example/orders', { headers: { authorization: `Bearer ${token}` } }),
        'auth-service',
        oauth4Options(base),
      );

    it("accepts a user's token from /auth/login, with the first-party client_id", async () => {
      const user = await login(t, 'ann@example.com');

      const claims = await validate(user.access_token);

      expect(claims).toMatchObject({
        iss: TEST_ISSUER,
        aud: 'auth-service',
        client_id: FIRST_PARTY,
        sub: expect.any(String),
        jti: expect.any(String),
      });
    });

    it("accepts a service client's token from the token endpoint, sub = client_id", async () => {
      const tokens = await oauth4ClientCredentials(basicClient, basicAuth());

      const claims = await validate(tokens.access_token);

      expect(claims).toMatchObject({ sub: basicClient.client_id, client_id: basicClient.client_id, scope: 'orders:read orders:write' });
    });
  });

  describe('refresh through the token endpoint (the rotation of /auth/refresh)', () => {
    const firstParty: oauth.Client = { client_id: FIRST_PARTY, token_endpoint_auth_method: 'none' };

    it('oauth4webapi, as the first-party public client: a new pair, the presented token spent', async () => {
      const user = await login(t, 'ann@example.com');

      const response = await oauth.refreshTokenGrantRequest(as, firstParty, oauth.None(), user.refresh_token, oauth4Options(base));
      const tokens = await oauth.processRefreshTokenResponse(as, firstParty, response);

      expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(tokens.refresh_token).not.toBe(user.refresh_token);
      await me(tokens.access_token).expect(200);
      expect(decodeJwt(tokens.access_token).payload.sid).toBe(decodeJwt(user.access_token).payload.sid);
    });

    it('openid-client refreshTokenGrant: a spent token presented again after its successor was used revokes the whole family', async () => {
      const user = await login(t, 'ann@example.com');
      const config = await discoverWithOpenidClient(base, FIRST_PARTY, client.None());

      const second = await client.refreshTokenGrant(config, user.refresh_token);
      const third = await client.refreshTokenGrant(config, second.refresh_token!);
      const reuse = await oauthErrorOf(client.refreshTokenGrant(config, user.refresh_token));

      expect(reuse).toEqual({ error: 'invalid_grant', status: 400 });
      expect(await oauthErrorOf(client.refreshTokenGrant(config, third.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
      for (const token of [user.access_token, second.access_token, third.access_token]) await me(token).expect(401);
    });

    it('an unknown refresh token is invalid_grant (400, RFC 6749 §5.2)', async () => {
      const config = await discoverWithOpenidClient(base, FIRST_PARTY, client.None());

      expect(await oauthErrorOf(client.refreshTokenGrant(config, 'A'.repeat(43)))).toEqual({ error: 'invalid_grant', status: 400 });
    });
  });

  describe('introspection, with each client authentication method', () => {
    const methods = () =>
      [
        ['client_secret_basic (oauth4webapi)', basicClient, basicAuth()],
        ['client_secret_post (oauth4webapi)', postClient, oauth.ClientSecretPost(postClient.client_secret!)],
        ['private_key_jwt (oauth4webapi)', jwtClient, oauth.PrivateKeyJwt({ key: jwtKey.privateKey, kid: jwtKey.kid })],
      ] as const;

    it('each method introspects a live user token, a live client token and garbage', async () => {
      const user = await login(t, 'ann@example.com');
      const service = await oauth4ClientCredentials(basicClient, basicAuth());
      for (const [name, caller, auth] of methods()) {
        const introspect = async (token: string) => {
          const response = await oauth.introspectionRequest(as, { client_id: caller.client_id }, auth, token, oauth4Options(base));
          return oauth.processIntrospectionResponse(as, { client_id: caller.client_id }, response);
        };
        expect(await introspect(user.access_token), name).toMatchObject({ active: true, client_id: FIRST_PARTY, sid: expect.any(String) });
        expect(await introspect(service.access_token), name).toMatchObject({
          active: true,
          client_id: basicClient.client_id,
          scope: 'orders:read orders:write',
        });
        expect(await introspect('garbage'), name).toEqual({ active: false });
      }
    });

    it('openid-client tokenIntrospection with client_secret_post (its usual default) and private_key_jwt', async () => {
      const user = await login(t, 'ann@example.com');
      const post = await discoverWithOpenidClient(base, postClient.client_id, client.ClientSecretPost(postClient.client_secret!));
      const jwt = await discoverWithOpenidClient(
        base,
        jwtUriClient.client_id,
        client.PrivateKeyJwt({ key: jwtUriKey.privateKey, kid: jwtUriKey.kid }),
      );

      for (const config of [post, jwt])
        expect(await client.tokenIntrospection(config, user.access_token)).toMatchObject({ active: true, sub: expect.any(String) });
    });

    it('a wrong secret is invalid_client', async () => {
      const config = await discoverWithOpenidClient(base, postClient.client_id, client.ClientSecretPost('not-the-secret'));

      expect(await oauthErrorOf(client.tokenIntrospection(config, 'x'))).toEqual({ error: 'invalid_client', status: 401 });
    });
  });

  describe('revocation, with each client authentication method', () => {
    it('the first-party public client revokes its refresh token with only client_id (openid-client None, RFC 7009 §2.1)', async () => {
      const user = await login(t, 'ann@example.com');
      const config = await discoverWithOpenidClient(base, FIRST_PARTY, client.None());

      await client.tokenRevocation(config, user.refresh_token, { token_type_hint: 'refresh_token' });

      expect(await oauthErrorOf(client.refreshTokenGrant(config, user.refresh_token))).toEqual({ error: 'invalid_grant', status: 400 });
      await me(user.access_token).expect(401);
    });

    it('client_secret_basic (oauth4webapi): a client revokes its own access token; that token is refused, a new one works', async () => {
      const doomed = await oauth4ClientCredentials(basicClient, basicAuth());
      await me(doomed.access_token).expect(200);

      const response = await oauth.revocationRequest(as, { client_id: basicClient.client_id }, basicAuth(), doomed.access_token, oauth4Options(base));
      await oauth.processRevocationResponse(response);

      await me(doomed.access_token).expect(401);
      await me((await oauth4ClientCredentials(basicClient, basicAuth())).access_token).expect(200);
    });

    it("client_secret_post (openid-client): its own token is revoked; another client's token is left alone (200 all the same)", async () => {
      const own = await oauth4ClientCredentials(postClient, oauth.ClientSecretPost(postClient.client_secret!));
      const foreign = await oauth4ClientCredentials(basicClient, basicAuth());
      const config = await discoverWithOpenidClient(base, postClient.client_id, client.ClientSecretPost(postClient.client_secret!));

      await client.tokenRevocation(config, foreign.access_token);
      await client.tokenRevocation(config, own.access_token);

      await me(foreign.access_token).expect(200);
      await me(own.access_token).expect(401);
    });

    it('private_key_jwt (openid-client): a client revokes its own token', async () => {
      const config = await discoverWithOpenidClient(
        base,
        jwtUriClient.client_id,
        client.PrivateKeyJwt({ key: jwtUriKey.privateKey, kid: jwtUriKey.kid }),
      );
      const tokens = await client.clientCredentialsGrant(config);

      await client.tokenRevocation(config, tokens.access_token);

      await me(tokens.access_token).expect(401);
      const introspection = await oauth.processIntrospectionResponse(
        as,
        { client_id: basicClient.client_id },
        await oauth.introspectionRequest(as, { client_id: basicClient.client_id }, basicAuth(), tokens.access_token, oauth4Options(base)),
      );
      expect(introspection).toEqual({ active: false });
    });
  });

  describe('secret rotation with an overlap', () => {
    it('the old secret works until previous_secret_expires_at, then only the new one', async () => {
      const rotating = await createClient(t, admin.access_token, { name: 'rotating', auth_method: 'client_secret_basic' });
      const rotation = await t
        .http()
        .post(`/admin/clients/${rotating.id}/secret`)
        .set(...bearer(admin.access_token))
        .send({ previous_secret_ttl: 3600 })
        .expect(200);
      const { client_secret: newSecret, previous_secret_expires_at: until } = rotation.body as {
        client_secret: string;
        previous_secret_expires_at: string;
      };
      const withSecret = async (secret: string) => discoverWithOpenidClient(base, rotating.client_id, client.ClientSecretBasic(secret));

      expect(newSecret).not.toBe(rotating.client_secret);
      await client.clientCredentialsGrant(await withSecret(rotating.client_secret!));
      await client.clientCredentialsGrant(await withSecret(newSecret));

      vi.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(Date.parse(until) + 1000));
      expect(await oauthErrorOf(client.clientCredentialsGrant(await withSecret(rotating.client_secret!)))).toEqual({
        error: 'invalid_client',
        status: 401,
      });
      await client.clientCredentialsGrant(await withSecret(newSecret));
    });

    it('previous_secret_ttl 0 ends the old secret at once', async () => {
      const rotating = await createClient(t, admin.access_token, { name: 'rotating-now', auth_method: 'client_secret_post' });
      const rotation = await t
        .http()
        .post(`/admin/clients/${rotating.id}/secret`)
        .set(...bearer(admin.access_token))
        .send({ previous_secret_ttl: 0 })
        .expect(200);
      const withSecret = async (secret: string) => discoverWithOpenidClient(base, rotating.client_id, client.ClientSecretPost(secret));

      expect(await oauthErrorOf(client.clientCredentialsGrant(await withSecret(rotating.client_secret!)))).toEqual({
        error: 'invalid_client',
        status: 401,
      });
      await client.clientCredentialsGrant(await withSecret(rotation.body.client_secret as string));
    });
  });

  describe('grants that are not offered', () => {
    it('the password grant is unsupported_grant_type (RFC 9700 §2.4), through openid-client and oauth4webapi', async () => {
      const config = await discoverWithOpenidClient(base, FIRST_PARTY, client.None());
      expect(
        await oauthErrorOf(client.genericGrantRequest(config, 'password', { username: 'ann@example.com', password: 'correct horse battery staple' })),
      ).toEqual({
        error: 'unsupported_grant_type',
        status: 400,
      });

      const response = await oauth.genericTokenEndpointRequest(
        as,
        { client_id: FIRST_PARTY },
        oauth.None(),
        'password',
        { username: 'ann@example.com', password: 'x' },
        oauth4Options(base),
      );
      const error = await oauth.processGenericTokenEndpointResponse(as, { client_id: FIRST_PARTY }, response).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(oauth.ResponseBodyError);
      expect((error as oauth.ResponseBodyError).error).toBe('unsupported_grant_type');
    });
  });

  describe('a resource server with passport-jwt and jwks-rsa (how most NestJS services trust tokens)', () => {
    let server: Server;
    let api: string;

    beforeAll(async () => {
      const passport = new Passport();
      passport.use(
        new JwtStrategy(
          {
            secretOrKeyProvider: jwksRsa.passportJwtSecret({ jwksUri: `${base}/.well-known/jwks.json`, cache: true, rateLimit: true }),
            jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
            issuer: TEST_ISSUER,
            audience: 'auth-service',
            algorithms: ['RS256'],
          },
          (payload: Record<string, unknown>, done: (error: unknown, user?: unknown) => void) => done(null, payload),
        ),
      );
      const app = express();
      app.use(passport.initialize());
      app.get('/orders', passport.authenticate('jwt', { session: false }), (request, response) => {
        const claims = request.user as Record<string, unknown>;
        response.json({ sub: claims.sub, client_id: claims.client_id, scope: claims.scope ?? null });
      });
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const getOrders = (token: string) => fetch(`${api}/orders`, { headers: { authorization: `Bearer ${token}` } });

    it("accepts a service client's token and a user's token", async () => {
      const service = await oauth4ClientCredentials(basicClient, basicAuth(), 'orders:read');
      const user = await login(t, 'ann@example.com');

      const asService = await getOrders(service.access_token);
      const asUser = await getOrders(user.access_token);

      expect(asService.status).toBe(200);
      expect(await asService.json()).toEqual({ sub: basicClient.client_id, client_id: basicClient.client_id, scope: 'orders:read' });
      expect(asUser.status).toBe(200);
      expect(await asUser.json()).toMatchObject({ client_id: FIRST_PARTY });
    });

    it('refuses a token signed by another key under our kid', async () => {
      const service = await oauth4ClientCredentials(basicClient, basicAuth());
      const { header, payload } = decodeJwt(service.access_token);

      expect((await getOrders(forgeJwt(header, payload, rs256With(otherRsaKey())))).status).toBe(401);
    });
  });
});
