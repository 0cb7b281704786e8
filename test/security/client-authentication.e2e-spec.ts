import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgeJwt, hs256With } from '../support/jwt.js';
import { assertionKeyPair, createClient, type CreatedClient } from '../support/oauth.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

const ISSUER = 'http://auth.test';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const basic = (id: string, secret: string): [string, string] => ['authorization', `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`];

/** Attacks on client authentication at the token, introspection and revocation endpoints: each ends in 401 invalid_client. */
describe('attack suite: client authentication', () => {
  let t: TestApp;
  let replica: TestApp;
  let admin: TokenPair;
  let jwtClient: CreatedClient;
  let secretClient: CreatedClient;
  let key: { privateKey: CryptoKey; publicJwk: JWK; kid: string };

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    replica = await startTestApp();
    await createUser(t, 'admin@example.com', ['user', 'admin']);
    admin = await login(t, 'admin@example.com');
    key = await assertionKeyPair('ES256');
    jwtClient = await createClient(t, admin.access_token, { name: 'jwt', auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    secretClient = await createClient(t, admin.access_token, { name: 'secret', auth_method: 'client_secret_basic' });
  });
  afterAll(() => Promise.all([t.close(), replica.close()]));

  /** A well-formed assertion for jwtClient, with whatever changes the attack needs. */
  const assertion = async (
    claims: Record<string, unknown> = {},
    { signWith = key.privateKey, alg = 'ES256', omit = [] as string[] }: { signWith?: CryptoKey; alg?: string; omit?: string[] } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    const all: Record<string, unknown> = {
      iss: jwtClient.client_id,
      sub: jwtClient.client_id,
      aud: ISSUER,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
      ...claims,
    };
    const payload = Object.fromEntries(Object.entries(all).filter(([claim]) => !omit.includes(claim)));
    return new SignJWT(payload).setProtectedHeader({ alg, kid: key.kid }).sign(signWith);
  };
  const withAssertion = (app: TestApp, jwt: string, path = '/oauth/token', extra: Record<string, string> = { grant_type: 'client_credentials' }) =>
    app
      .http()
      .post(path)
      .type('form')
      .send({ ...extra, client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
  const refused = (res: { status: number; body: { error?: string } }) => expect([res.status, res.body.error]).toEqual([401, 'invalid_client']);

  it('a well-formed assertion is accepted (the baseline every attack below changes one thing of)', async () => {
    expect((await withAssertion(t, await assertion())).status).toBe(200);
  });

  it('a replayed assertion is refused, on the same replica and on another one (jti single use across replicas)', async () => {
    const jwt = await assertion();
    expect((await withAssertion(t, jwt)).status).toBe(200);

    refused(await withAssertion(t, jwt));
    refused(await withAssertion(replica, jwt));
    refused(await withAssertion(replica, jwt, '/auth/introspect', { token: 'x' }));
  });

  it('two replicas racing for one assertion: exactly one accepts it', async () => {
    const jwt = await assertion();

    const statuses = await Promise.all(
      [withAssertion(t, jwt), withAssertion(replica, jwt), withAssertion(t, jwt), withAssertion(replica, jwt)].map(async (res) => (await res).status),
    );

    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(3);
  });

  it.each([
    ['another authorization server', { aud: 'https://other.example' }],
    ['a resource', { aud: 'auth-service' }],
    ['the issuer with a path appended', { aud: `${ISSUER}/oauth/token/x` }],
  ])('an assertion for the wrong audience (%s) is refused', async (_name, claims) => {
    refused(await withAssertion(t, await assertion(claims)));
  });

  it('audiences that name us are accepted: the issuer, the token endpoint, and the endpoint called', async () => {
    expect((await withAssertion(t, await assertion({ aud: `${ISSUER}/oauth/token` }))).status).toBe(200);
    expect((await withAssertion(t, await assertion({ aud: [ISSUER, 'https://other.example'] }))).status).toBe(200);
    expect((await withAssertion(t, await assertion({ aud: `${ISSUER}/auth/introspect` }), '/auth/introspect', { token: 'x' })).status).toBe(200);
    refused(await withAssertion(t, await assertion({ aud: `${ISSUER}/auth/introspect` })));
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, { omit?: string[] }, () => Record<string, unknown>]>([
    ['without exp', { omit: ['exp'] }, () => ({})],
    ['expired', {}, () => ({ exp: now() - 120, iat: now() - 180 })],
    ['living an hour (longer than 5 minutes)', {}, () => ({ exp: now() + 3600 })],
    ['without jti', { omit: ['jti'] }, () => ({})],
    ['with an empty jti', {}, () => ({ jti: '' })],
    ['with iss other than sub', {}, () => ({ iss: secretClient.client_id })],
    ['with sub of another client', {}, () => ({ sub: secretClient.client_id })],
    ['not yet valid', {}, () => ({ nbf: now() + 600 })],
  ])('an assertion %s is refused', async (_name, options, claims) => {
    refused(await withAssertion(t, await assertion(claims(), options)));
  });

  it('an assertion signed by a key the client did not register (same kid) is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    refused(await withAssertion(t, await assertion({}, { signWith: privateKey })));
  });

  it('alg none and HS256 (keyed with the registered public key) are refused: only asymmetric algorithms', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: jwtClient.client_id, sub: jwtClient.client_id, aud: ISSUER, jti: randomUUID(), exp: now + 60 };
    refused(await withAssertion(t, forgeJwt({ alg: 'none', kid: key.kid }, claims)));
    refused(
      await withAssertion(t, forgeJwt({ alg: 'HS256', kid: key.kid }, { ...claims, jti: randomUUID() }, hs256With(JSON.stringify(key.publicJwk)))),
    );
  });

  it('client_id in the body naming another client than the assertion is refused', async () => {
    const res = await t
      .http()
      .post('/oauth/token')
      .type('form')
      .send({
        grant_type: 'client_credentials',
        client_id: secretClient.client_id,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion(),
      });
    refused(res);
  });

  it('a client may only use its registered method: a secret client sending an assertion, a key client guessing a secret', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ iss: secretClient.client_id, sub: secretClient.client_id, aud: ISSUER, jti: randomUUID(), exp: now() + 60 })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(privateKey);
    refused(await withAssertion(t, foreign));
    refused(
      await t
        .http()
        .post('/oauth/token')
        .set(...basic(jwtClient.client_id, 'guess'))
        .type('form')
        .send({ grant_type: 'client_credentials' }),
    );
  });

  it('a wrong client_assertion_type or an oversized assertion is invalid_request; a garbage assertion is invalid_client', async () => {
    const wrongType = await t
      .http()
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_assertion_type: 'urn:x', client_assertion: await assertion() });
    expect([wrongType.status, wrongType.body.error]).toEqual([400, 'invalid_request']);
    refused(await withAssertion(t, 'not.a.jwt'));
    const oversized = await withAssertion(t, 'x'.repeat(9000));
    expect([oversized.status, oversized.body.error]).toEqual([400, 'invalid_request']);
  });

  it("another client's secret, a secret for an unknown client, an empty secret and a malformed Basic header are refused alike", async () => {
    const other = await createClient(t, admin.access_token, { name: 'other', auth_method: 'client_secret_basic' });
    const attempts = [
      basic(secretClient.client_id, other.client_secret!),
      basic('no-such-client', secretClient.client_secret!),
      basic(secretClient.client_id, ''),
      ['authorization', 'Basic !!!'] as [string, string],
      ['authorization', 'Basic'] as [string, string],
    ];
    for (const header of attempts) {
      const res = await t
        .http()
        .post('/oauth/token')
        .set(...header)
        .type('form')
        .send({ grant_type: 'client_credentials' });
      refused(res);
      expect(res.body.error_description).toBe('Client authentication failed');
      expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    }
  });

  it('a user refresh token or an access token as a client secret or assertion gets nowhere', async () => {
    await createUser(t, 'ann@example.com');
    const user = await login(t, 'ann@example.com');
    refused(
      await t
        .http()
        .post('/oauth/token')
        .set(...basic(secretClient.client_id, user.refresh_token))
        .type('form')
        .send({ grant_type: 'client_credentials' }),
    );
    refused(await withAssertion(t, user.access_token));
  });

  it('a service client token is no admin Bearer at introspection or the revocation feed (403), whatever its roles', async () => {
    const powerful = await createClient(t, admin.access_token, { name: 'powerful', roles: ['admin'], auth_method: 'client_secret_basic' });
    const res = await t
      .http()
      .post('/oauth/token')
      .set(...basic(powerful.client_id, powerful.client_secret!))
      .type('form')
      .send({ grant_type: 'client_credentials' });

    expect(
      (
        await t
          .http()
          .post('/auth/introspect')
          .set(...bearer(res.body.access_token))
          .send({ token: 'x' })
      ).status,
    ).toBe(403);
    expect(
      (
        await t
          .http()
          .get('/.well-known/revocations')
          .set(...bearer(res.body.access_token))
      ).status,
    ).toBe(403);
  });
});

describe('attack suite: guessing client credentials is throttled', () => {
  let t: TestApp;
  let admin: TokenPair;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({ RATE_LIMIT_IP_PER_MINUTE: '5' });
    await createUser(t, 'admin@example.com', ['user', 'admin']);
    admin = await login(t, 'admin@example.com');
  });
  afterAll(() => t.close());

  it('failed client authentications count against the caller’s IP: past the budget they are 429; a real client still gets in', async () => {
    const victim = await createClient(t, admin.access_token, { name: 'victim', auth_method: 'client_secret_post' });
    const guess = () => t.http().post('/auth/revoke').type('form').send({ token: 'x', client_id: victim.client_id, client_secret: randomUUID() });

    const statuses: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++) statuses.push((await guess()).status);

    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const real = await t
      .http()
      .post('/auth/revoke')
      .type('form')
      .send({ token: 'x', client_id: victim.client_id, client_secret: victim.client_secret! });
    expect(real.status).toBe(200);
  });
});
