import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock.js';
import { KeysService } from '../../src/keys/keys.service.js';
import { decodeJwt } from '../support/jwt.js';
import { waitFor } from '../support/service-process.js';
import { resetDatabase, startTestApp, TEST_KEK, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

const PUBLISH_AHEAD = 1800;
const ACCESS_TTL = 900;

/** Moves the clock of one or more apps together, as the real clock moves for every replica. */
function simulatedTime(...apps: TestApp[]) {
  let now = Date.now();
  for (const app of apps) vi.spyOn(app.app.get(Clock), 'now').mockImplementation(() => new Date(now));
  return {
    now: () => now,
    advance: (seconds: number) => (now += seconds * 1000),
  };
}

/**
 * A verifier that, like Istio's control plane, caches the JWKS for a fixed time and does not
 * refetch on an unknown kid: here KEY_PUBLISH_AHEAD minus a minute.
 */
class CachingVerifier {
  private jwks: JSONWebKeySet | undefined;
  private fetchedAt = 0;

  constructor(
    private readonly t: TestApp,
    private readonly cacheSeconds: number,
  ) {}

  async verify(token: string, now: number): Promise<boolean> {
    if (this.jwks === undefined || now - this.fetchedAt >= this.cacheSeconds * 1000) {
      this.jwks = JSON.parse((await this.t.http().get('/.well-known/jwks.json')).text) as JSONWebKeySet;
      this.fetchedAt = now;
    }
    try {
      await jwtVerify(token, createLocalJWKSet(this.jwks), {
        algorithms: ['RS256'],
        issuer: 'http://auth.test',
        audience: 'auth-service',
        typ: 'at+jwt',
        currentDate: new Date(now),
      });
      return true;
    } catch {
      return false;
    }
  }
}

describe('signing-key rotation', () => {
  let t: TestApp;
  let admin: TokenPair;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await resetDatabase();
    await t.app.get(KeysService).sync();
    await createUser(t, 'admin@example.com', ['user', 'admin']);
    admin = await login(t, 'admin@example.com');
  });
  afterEach(() => vi.restoreAllMocks());

  const keyStates = async () =>
    (await t.dataSource.query('SELECT kid, state FROM signing_keys ORDER BY activates_at')) as Array<{ kid: string; state: string }>;

  it('rotates on demand without a single valid token refused, here or by a verifier caching the JWKS', async () => {
    const keys = t.app.get(KeysService);
    const time = simulatedTime(t);
    const verifier = new CachingVerifier(t, PUBLISH_AHEAD - 60);
    const firstKid = keys.signingKey().kid;
    let refreshToken = admin.refresh_token;
    const issued: Array<{ token: string; exp: number }> = [];
    const refusals: string[] = [];
    const kidsSeen = new Set<string>();

    // Primes the verifier's cache with the JWKS as it was before the rotation.
    await verifier.verify(admin.access_token, time.now());
    time.advance(120);
    const rotation = await t
      .http()
      .post('/admin/keys/rotate')
      .set(...bearer(admin.access_token));
    expect(rotation.status).toBe(202);
    expect(rotation.body).toEqual({ kid: expect.any(String), state: 'next', activates_at: expect.any(String) });
    expect(new Date(rotation.body.activates_at).getTime()).toBe(time.now() + PUBLISH_AHEAD * 1000);

    // Every minute for an hour: sync like the replicas' timers, get a new token, check every live one.
    for (let minute = 0; minute < 60; minute++) {
      time.advance(60);
      await keys.sync();
      const maxAge = Number(/max-age=(\d+)/.exec((await t.http().get('/.well-known/jwks.json')).headers['cache-control'])![1]);
      expect(maxAge).toBeLessThanOrEqual(PUBLISH_AHEAD - 60);

      const res = await t.http().post('/auth/refresh').send({ refresh_token: refreshToken }).expect(200);
      refreshToken = res.body.refresh_token;
      issued.push({ token: res.body.access_token, exp: time.now() + ACCESS_TTL * 1000 });
      kidsSeen.add(JSON.parse(Buffer.from(res.body.access_token.split('.')[0], 'base64url').toString()).kid);

      for (const { token } of issued.filter(({ exp }) => exp > time.now())) {
        if (
          (
            await t
              .http()
              .get('/auth/me')
              .set(...bearer(token))
          ).status !== 200
        )
          refusals.push(`service at minute ${minute}`);
        if (!(await verifier.verify(token, time.now()))) refusals.push(`verifier at minute ${minute}`);
      }
    }

    expect(refusals).toEqual([]);
    expect(kidsSeen).toEqual(new Set([firstKid, rotation.body.kid]));
    // The old key was retired at activation and removed once its last token expired.
    expect(await keyStates()).toEqual([{ kid: rotation.body.kid, state: 'active' }]);
  });

  it('publishes the next key KEY_PUBLISH_AHEAD before the scheduled rotation, and verifies with it from then on', async () => {
    const keys = t.app.get(KeysService);
    const time = simulatedTime(t);
    const [{ activates_at }] = await t.dataSource.query(`SELECT activates_at FROM signing_keys WHERE state = 'active'`);

    time.advance((new Date(activates_at).getTime() - time.now()) / 1000 + 30 * 86400 - PUBLISH_AHEAD);
    await keys.sync();

    const states = await keyStates();
    expect(states.map((key) => key.state)).toEqual(['active', 'next']);
    const jwks = JSON.parse((await t.http().get('/.well-known/jwks.json')).text) as JSONWebKeySet;
    expect(jwks.keys.map((key) => key.kid)).toEqual(states.map((key) => key.kid));
    // Another replica with a faster clock may sign with it first; this one must accept that.
    expect(keys.verificationKey(states[1]!.kid)).toBeDefined();
  });

  it('answers a second rotation request with the key already waiting', async () => {
    const first = await t
      .http()
      .post('/admin/keys/rotate')
      .set(...bearer(admin.access_token))
      .expect(202);
    const second = await t
      .http()
      .post('/admin/keys/rotate')
      .set(...bearer(admin.access_token))
      .expect(202);

    expect(second.body.kid).toBe(first.body.kid);
    expect((await keyStates()).map((key) => key.state)).toEqual(['active', 'next']);
  });

  it('refuses rotation without the admin role', async () => {
    await createUser(t, 'user@example.com');
    const user = await login(t, 'user@example.com');

    await t.http().post('/admin/keys/rotate').expect(401);
    await t
      .http()
      .post('/admin/keys/rotate')
      .set(...bearer(user.access_token))
      .expect(403);
    expect(await keyStates()).toHaveLength(1);
  });

  it('stores no private key readable without the KEK, and will not start with another KEK', async () => {
    const rows = (await t.dataSource.query('SELECT private_key_ciphertext FROM signing_keys')) as Array<{ private_key_ciphertext: Buffer }>;
    // The DER AlgorithmIdentifier of rsaEncryption, present in every unencrypted PKCS#8 RSA key.
    const rsaEncryptionOid = Buffer.from('06092a864886f70d010101', 'hex');
    for (const { private_key_ciphertext: stored } of rows) {
      expect(stored.includes(rsaEncryptionOid)).toBe(false);
      expect(stored.toString('latin1')).not.toMatch(/BEGIN|PRIVATE KEY/);
    }

    const otherKek = Buffer.alloc(32, 9).toString('base64');
    await expect(startTestApp({ KEYS_KEK: otherKek })).rejects.toThrow(/KEYS_KEK/);
    const rotatedKek = await startTestApp({ KEYS_KEK: `${otherKek},${TEST_KEK}` });
    await rotatedKek.close();
  });

  it('a key written under a KEK this replica lacks fails its readiness and is logged once, while the loaded key goes on signing', async () => {
    const newerKek = await startTestApp({ KEYS_KEK: `${Buffer.alloc(32, 9).toString('base64')},${TEST_KEK}` });
    try {
      const time = simulatedTime(t, newerKek);
      await newerKek.app.get(KeysService).rotate('test');
      time.advance(PUBLISH_AHEAD + 1);
      await newerKek.app.get(KeysService).sync();
      const logged = vi.spyOn(Logger.prototype, 'error');

      for (let i = 0; i < 3; i++) await t.app.get(KeysService).sync();

      const res = await t.http().get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(/KEYS_KEK/);
      expect(logged.mock.calls.filter(([message]) => String(message).includes('Cannot load the signing keys'))).toHaveLength(1);
      await login(t, 'admin@example.com');
    } finally {
      await newerKek.close();
    }
  });
});

describe('signing keys across replicas', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    a = await startTestApp();
    b = await startTestApp();
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });
  afterEach(() => vi.restoreAllMocks());

  it('picks up a rotation made on another replica within seconds, without a restart', async () => {
    const published = await a.app.get(KeysService).rotate('test');
    const started = Date.now();

    await waitFor(async () => (await b.http().get('/.well-known/jwks.json')).text.includes(published.kid), 'replica B to publish the key', 15_000);

    console.log(`replica B published the new key ${Date.now() - started} ms after replica A created it`);
  });

  it("at an activation, replicas with clocks 5 s apart accept each other's tokens, under the old key and the new", async () => {
    const published = await a.app.get(KeysService).rotate('test');
    await b.app.get(KeysService).sync();
    await createUser(a, 'skew@example.com');
    const activation = published.activatesAt.getTime();
    // A runs 5 s fast, B 5 s slow; the real clock stands 1 s before the activation.
    const realNow = activation - 1000;
    vi.spyOn(a.app.get(Clock), 'now').mockImplementation(() => new Date(realNow + 5000));
    vi.spyOn(b.app.get(Clock), 'now').mockImplementation(() => new Date(realNow - 5000));

    // B's sync finds nothing due; A's activates the key. Until B's next sync, B signs with the old one.
    await b.app.get(KeysService).sync();
    await a.app.get(KeysService).sync();
    const fromA = await login(a, 'skew@example.com');
    const fromB = await login(b, 'skew@example.com');

    expect(decodeJwt(fromA.access_token).header.kid).toBe(published.kid);
    expect(decodeJwt(fromB.access_token).header.kid).not.toBe(published.kid);
    for (const replica of [a, b]) {
      for (const tokens of [fromA, fromB])
        await replica
          .http()
          .get('/auth/me')
          .set(...bearer(tokens.access_token))
          .expect(200);
    }
  });

  it('ends with exactly one active key when two replicas rotate and activate at the same moment', async () => {
    const [fromA, fromB] = await Promise.all([a.app.get(KeysService).rotate('test'), b.app.get(KeysService).rotate('test')]);
    expect(fromB.kid).toBe(fromA.kid);

    const time = simulatedTime(a, b);
    time.advance(PUBLISH_AHEAD + 1);
    await Promise.all([a.app.get(KeysService).sync(), b.app.get(KeysService).sync()]);

    const states = await a.dataSource.query(`SELECT kid, state FROM signing_keys WHERE state <> 'retired'`);
    expect(states).toEqual([{ kid: fromA.kid, state: 'active' }]);
    expect(a.app.get(KeysService).signingKey().kid).toBe(fromA.kid);
    expect(b.app.get(KeysService).signingKey().kid).toBe(fromA.kid);
  });
});
