import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { createUser, login } from '../support/users.js';

describe('GET /.well-known/jwks.json', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('publishes the public key only, with an RFC 7638 thumbprint as kid', async () => {
    const res = await t.http().get('/.well-known/jwks.json').expect(200);

    expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    const { keys } = JSON.parse(res.text) as { keys: JWK[] };
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(keys[0]!.kid).toBe(await calculateJwkThumbprint(keys[0]!));
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(keys[0]).not.toHaveProperty(member);
  });

  it('is cacheable, and answers 304 to a matching If-None-Match', async () => {
    const first = await t.http().get('/.well-known/jwks.json').expect(200);
    expect(first.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[^"]+"$/);

    const again = await t.http().get('/.well-known/jwks.json').set('if-none-match', etag);
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    await t.http().get('/.well-known/jwks.json').set('if-none-match', '"something-else"').expect(200);
  });

  it('lets an independent verifier (jose) check our access tokens from it alone', async () => {
    await createUser(t, 'verifier@example.com');
    const { access_token } = await login(t, 'verifier@example.com');
    const jwks = createLocalJWKSet(JSON.parse((await t.http().get('/.well-known/jwks.json')).text));

    const { payload, protectedHeader } = await jwtVerify(access_token, jwks, {
      algorithms: ['RS256'],
      issuer: 'http://auth.test',
      audience: 'auth-service',
      typ: 'at+jwt',
    });

    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.email).toBe('verifier@example.com');
  });
});

describe('signing key creation', () => {
  it('ends with one active key when two instances start at once on an empty key table', async () => {
    await resetDatabase();

    const [a, b] = await Promise.all([startTestApp(), startTestApp()]);
    try {
      const rows = await a.dataSource.query(`SELECT kid FROM signing_keys WHERE state = 'active'`);
      expect(rows).toHaveLength(1);
      const jwksA = (await a.http().get('/.well-known/jwks.json')).text;
      expect((await b.http().get('/.well-known/jwks.json')).text).toBe(jwksA);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
