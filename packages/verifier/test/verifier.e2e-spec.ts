import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../../src/common/clock.js';
import { KeysService } from '../../../src/keys/keys.service.js';
import { decodeJwt, forgeJwt, hs256With, otherRsaKey, rs256With } from '../../../test/support/jwt.js';
import { waitFor } from '../../../test/support/service-process.js';
import { resetDatabase, startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../../../test/support/users.js';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { OrdersModule } from '../../../examples/nest-service/src/app.module.js';
import { createVerifier, VerifierError, type Verifier } from '../src/index.js';

/** Service credentials the auth service is configured with (INTROSPECTION_CLIENTS); the feed asks for them. */
const FEED_CLIENT = { clientId: 'orders', clientSecret: 'orders-feed-secret-0123456789abcdef' };

/** The kit against a running instance of the service, started here. */
describe('@auth-service/verifier against the service', () => {
  let t: TestApp;
  let base: string;
  let verifier: Verifier;
  let user: TokenPair;
  let admin: TokenPair;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({
      INTROSPECTION_CLIENTS: `${FEED_CLIENT.clientId}:${createHash('sha256').update(FEED_CLIENT.clientSecret).digest('hex')}`,
    });
    base = await t.app.getUrl();
    base = base.replace('[::1]', '127.0.0.1');
    verifier = createVerifier({
      issuer: 'http://auth.test',
      audience: 'auth-service',
      jwksUri: `${base}/.well-known/jwks.json`,
      unknownKidCooldownMs: 0,
      revocation: { feedUri: `${base}/.well-known/revocations`, ...FEED_CLIENT, pollIntervalMs: 250 },
    });
    await verifier.ready();
    await createUser(t, 'user@example.com');
    await createUser(t, 'admin@example.com', ['user', 'admin']);
    user = await login(t, 'user@example.com');
    admin = await login(t, 'admin@example.com');
  });
  afterAll(async () => {
    verifier.close();
    await t.close();
  });
  afterEach(() => vi.restoreAllMocks());

  const refusedWith = async (token: string, code: string) => {
    const error = await verifier.verify(token).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(VerifierError);
    expect((error as VerifierError).code).toBe(code);
  };

  it('verifies a token the service issued and returns its claims', async () => {
    const verified = await verifier.verify(user.access_token);
    expect(verified).toMatchObject({ sid: decodeJwt(user.access_token).payload.sid, roles: ['user'], email: 'user@example.com' });
  });

  it('refuses a revoked session within the poll interval', async () => {
    const victim = await login(t, 'user@example.com');
    await verifier.verify(victim.access_token);

    const sid = decodeJwt(victim.access_token).payload.sid as string;
    await t
      .http()
      .delete(`/admin/sessions/${sid}`)
      .set(...bearer(admin.access_token))
      .expect(204);
    const started = Date.now();

    await waitFor(
      async () =>
        await verifier.verify(victim.access_token).then(
          () => false,
          () => true,
        ),
      'the verifier to refuse',
      5000,
    );
    console.log(`the verifier refused the revoked session after ${Date.now() - started} ms (poll interval 250 ms)`);
    await refusedWith(victim.access_token, 'token_revoked');
    await verifier.verify(user.access_token);
  });

  it("verifies a service client's own token, and refuses it once revoked on its own or once its client is disabled", async () => {
    const created = await t
      .http()
      .post('/admin/clients')
      .set(...bearer(admin.access_token))
      .send({ name: 'jobs', scopes: ['jobs:run'], auth_method: 'client_secret_basic' })
      .expect(201);
    const { id, client_id: clientId, client_secret: clientSecret } = created.body as { id: string; client_id: string; client_secret: string };
    const credentials = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    const issue = async () =>
      (await t.http().post('/oauth/token').set('authorization', credentials).type('form').send({ grant_type: 'client_credentials' }).expect(200)).body
        .access_token as string;
    // A client made through the admin routes reads the feed too (HTTP Basic, as the kit sends it).
    const ownFeed = createVerifier({
      issuer: 'http://auth.test',
      audience: 'auth-service',
      jwksUri: `${base}/.well-known/jwks.json`,
      revocation: { feedUri: `${base}/.well-known/revocations`, clientId, clientSecret, pollIntervalMs: 250 },
    });
    await ownFeed.ready();
    const revoked = await issue();
    const other = await issue();

    expect(await ownFeed.verify(revoked)).toMatchObject({
      sub: clientId,
      clientId,
      sid: undefined,
      email: undefined,
      scopes: ['jobs:run'],
      roles: [],
    });
    expect((await verifier.verify(user.access_token)).clientId).toBe('auth-service');

    await t.http().post('/auth/revoke').set('authorization', credentials).type('form').send({ token: revoked }).expect(200);
    await waitFor(
      async () =>
        verifier.verify(revoked).then(
          () => false,
          () => true,
        ),
      'the verifier to refuse the revoked token',
      5000,
    );
    await refusedWith(revoked, 'token_revoked');
    await verifier.verify(other);

    await t
      .http()
      .patch(`/admin/clients/${id}`)
      .set(...bearer(admin.access_token))
      .send({ disabled: true })
      .expect(200);
    await waitFor(
      async () =>
        verifier.verify(other).then(
          () => false,
          () => true,
        ),
      'the verifier to refuse the disabled client',
      5000,
    );
    await refusedWith(other, 'token_revoked');
    ownFeed.close();
  });

  it('goes through a key rotation without refusing a valid token', async () => {
    const keys = t.app.get(KeysService);
    const clock = t.app.get(Clock);
    // A verifier living in the service's (simulated) time, like a sidecar next to it.
    const sidecar = createVerifier({
      issuer: 'http://auth.test',
      audience: 'auth-service',
      jwksUri: `${base}/.well-known/jwks.json`,
      now: () => clock.now().getTime(),
    });
    await sidecar.verify(user.access_token);
    await t
      .http()
      .post('/admin/keys/rotate')
      .set(...bearer(admin.access_token))
      .expect(202);
    const started = Date.now();
    // Just before the new key signs, then just after: a token from each side of the switch.
    vi.spyOn(clock, 'now').mockReturnValue(new Date(started + 1799_000));
    const before = await login(t, 'user@example.com');
    vi.spyOn(clock, 'now').mockReturnValue(new Date(started + 1801_000));
    await keys.sync();

    const after = await login(t, 'user@example.com');

    expect(decodeJwt(after.access_token).header.kid).not.toBe(decodeJwt(before.access_token).header.kid);
    await sidecar.verify(before.access_token);
    await sidecar.verify(after.access_token);
    sidecar.close();
  });

  describe('refuses every forged token of the attack suite', () => {
    let claims: Record<string, unknown>;
    let kid: string;
    let ourKey: KeyObject;
    let listener: Server;
    let listenerHits = 0;
    const attackerKey = otherRsaKey();

    beforeAll(async () => {
      const fresh = await login(t, 'user@example.com');
      claims = decodeJwt(fresh.access_token).payload;
      ({ kid, privateKey: ourKey } = t.app.get(KeysService).signingKey());
      listener = createServer((_req, res) => {
        listenerHits++;
        res.end('{}');
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => listener.close(resolve));
    });

    const header = (extra: object = {}) => ({ alg: 'RS256', typ: 'at+jwt', kid, ...extra });
    const now = () => Math.floor(Date.now() / 1000);

    it('control: our own signature verifies', async () => {
      await verifier.verify(forgeJwt(header(), claims, rs256With(ourKey)));
    });

    it.each([
      ['alg none', () => forgeJwt(header({ alg: 'none' }), claims), 'token_malformed'],
      ['alg NONE', () => forgeJwt(header({ alg: 'NONE' }), claims), 'token_malformed'],
      [
        'HS256 keyed with our public key',
        () => forgeJwt(header({ alg: 'HS256' }), claims, hs256With(createPublicKey(ourKey).export({ format: 'pem', type: 'spki' }))),
        'token_malformed',
      ],
      ['another key under our kid', () => forgeJwt(header(), claims, rs256With(attackerKey)), 'signature_invalid'],
      [
        'embedded jwk',
        () => forgeJwt(header({ jwk: createPublicKey(attackerKey).export({ format: 'jwk' }) }), claims, rs256With(attackerKey)),
        'signature_invalid',
      ],
      ['unknown kid', () => forgeJwt(header({ kid: 'attacker' }), claims, rs256With(attackerKey)), 'unknown_key'],
      ['crit header', () => forgeJwt(header({ crit: ['exp'] }), claims, rs256With(ourKey)), 'token_malformed'],
      ['typ JWT', () => forgeJwt(header({ typ: 'JWT' }), claims, rs256With(ourKey)), 'claim_invalid'],
      ['wrong issuer', () => forgeJwt(header(), { ...claims, iss: 'https://evil.example' }, rs256With(ourKey)), 'claim_invalid'],
      ['wrong audience', () => forgeJwt(header(), { ...claims, aud: 'billing' }, rs256With(ourKey)), 'claim_invalid'],
      ['expired', () => forgeJwt(header(), { ...claims, exp: now() - 60 }, rs256With(ourKey)), 'token_expired'],
      ['not yet valid', () => forgeJwt(header(), { ...claims, nbf: now() + 3600 }, rs256With(ourKey)), 'token_not_yet_valid'],
      ['no sid', () => forgeJwt(header(), { ...claims, sid: undefined }, rs256With(ourKey)), 'claim_invalid'],
      ['JWE form', () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', 'token_malformed'],
      ['garbage', () => 'garbage', 'token_malformed'],
    ])('%s', async (_name, make, code) => {
      await refusedWith(make(), code);
    });

    it('jku and x5u: refused, and nothing fetched', async () => {
      const url = `http://127.0.0.1:${(listener.address() as { port: number }).port}/jwks.json`;
      await refusedWith(forgeJwt(header({ jku: url, kid: 'attacker' }), claims, rs256With(attackerKey)), 'unknown_key');
      await refusedWith(forgeJwt(header({ x5u: url, kid: 'attacker' }), claims, rs256With(attackerKey)), 'unknown_key');
      expect(listenerHits).toBe(0);
    });
  });

  it('limits JWKS refetches for unknown kids to one per cooldown', async () => {
    const fetches: string[] = [];
    const counting = createVerifier({
      issuer: 'http://auth.test',
      audience: 'auth-service',
      jwksUri: `${base}/.well-known/jwks.json`,
      unknownKidCooldownMs: 60_000,
      fetch: (input, init) => {
        fetches.push(String(input));
        return fetch(input, init);
      },
    });
    await counting.ready();
    const forged = forgeJwt({ alg: 'RS256', typ: 'at+jwt', kid: 'unknown' }, {}, rs256With(otherRsaKey()));

    for (let i = 0; i < 20; i++) await counting.verify(forged).catch(() => undefined);

    expect(fetches).toHaveLength(2);
    counting.close();
  });

  it('fails closed when the revocation feed is stale, or open when configured so', async () => {
    const unreachable = 'http://127.0.0.1:1/.well-known/revocations';
    const options = { issuer: 'http://auth.test', audience: 'auth-service', jwksUri: `${base}/.well-known/jwks.json` };
    const closed = createVerifier({ ...options, revocation: { feedUri: unreachable, ...FEED_CLIENT, maxStalenessMs: 0 } });
    const open = createVerifier({ ...options, revocation: { feedUri: unreachable, ...FEED_CLIENT, maxStalenessMs: 0, failOpen: true } });

    await expect(closed.verify(user.access_token)).rejects.toMatchObject({ code: 'revocations_stale' });
    await expect(open.verify(user.access_token)).resolves.toMatchObject({ roles: ['user'] });
    closed.close();
    open.close();
  });

  it('revalidates the JWKS with If-None-Match: an unchanged set costs a 304', async () => {
    const statuses: number[] = [];
    const watching = createVerifier({
      issuer: 'http://auth.test',
      audience: 'auth-service',
      jwksUri: `${base}/.well-known/jwks.json`,
      unknownKidCooldownMs: 0,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      },
    });
    await watching.ready();
    await watching.verify(forgeJwt({ alg: 'RS256', typ: 'at+jwt', kid: 'unknown' }, {}, rs256With(otherRsaKey()))).catch(() => undefined);

    expect(statuses).toEqual([200, 304]);
    watching.close();
  });

  it('protects the example NestJS service: 401, 200, 403 by role, public health', async () => {
    const example = await NestFactory.create<NestFastifyApplication>(OrdersModule.forRoot(base, 'http://auth.test'), new FastifyAdapter(), {
      logger: false,
    });
    await example.init();
    await example.getHttpAdapter().getInstance().ready();
    try {
      const http = () => request(example.getHttpServer());
      await http().get('/healthz').expect(200);
      const anonymous = await http().get('/orders');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('token_missing');
      const owned = await http()
        .get('/orders')
        .set(...bearer(user.access_token))
        .expect(200);
      expect(owned.body.owner).toBe(decodeJwt(user.access_token).payload.sub);
      await http()
        .delete('/orders/1')
        .set(...bearer(user.access_token))
        .expect(403);
      await http()
        .delete('/orders/1')
        .set(...bearer(admin.access_token))
        .expect(204);
    } finally {
      await example.close();
    }
  });
});
