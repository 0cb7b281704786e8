import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeysService } from '../../src/keys/keys.service.js';
import { decodeJwt, forgeJwt, hs256With, otherRsaKey, rs256With } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { createUser, login } from '../support/users.js';

/** Attacks on the access-token format: each must end in the same 401 invalid_token. */
describe('attack suite: token forgery', () => {
  let t: TestApp;
  let claims: Record<string, unknown>;
  let kid: string;
  let ourKey: KeyObject;
  let keyServer: Server;
  let keyServerHits = 0;
  let keyServerUrl: string;
  const attackerKey = otherRsaKey();

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    await createUser(t, 'victim@example.com');
    claims = decodeJwt((await login(t, 'victim@example.com')).access_token).payload;
    ({ kid, privateKey: ourKey } = t.app.get(KeysService).signingKey());
    // Serves the attacker's key; a verifier that follows jku/x5u would fetch it.
    keyServer = createServer((_req, res) => {
      keyServerHits++;
      res.end(JSON.stringify({ keys: [{ ...createPublicKey(attackerKey).export({ format: 'jwk' }), kid: 'attacker' }] }));
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    keyServerUrl = `http://127.0.0.1:${(keyServer.address() as { port: number }).port}/jwks.json`;
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => keyServer.close(resolve));
  });

  const expectRefused = async (token: string) => {
    const res = await t.http().get('/auth/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ statusCode: 401, error: 'invalid_token', message: 'Invalid or expired access token' });
  };
  const header = (extra: object = {}) => ({ alg: 'RS256', typ: 'at+jwt', kid, ...extra });

  it('control: a token we issued is accepted', async () => {
    await t
      .http()
      .get('/auth/me')
      .set('authorization', `Bearer ${forgeJwt(header(), claims, rs256With(ourKey))}`)
      .expect(200);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('alg "%s" with no signature', async (alg) => {
    await expectRefused(forgeJwt(header({ alg }), claims));
  });

  it('alg none with a signature left in place', async () => {
    const valid = forgeJwt(header(), claims, rs256With(ourKey));
    const [, payload, signature] = valid.split('.');
    await expectRefused(`${Buffer.from(JSON.stringify(header({ alg: 'none' }))).toString('base64url')}.${payload}.${signature}`);
  });

  describe('HS256 keyed with our public key (key confusion)', () => {
    const publicForms = (): Array<[string, string | Buffer]> => {
      const publicKey = createPublicKey(ourKey);
      const jwk = publicKey.export({ format: 'jwk' });
      return [
        ['SPKI PEM', publicKey.export({ format: 'pem', type: 'spki' })],
        ['PKCS#1 PEM', publicKey.export({ format: 'pem', type: 'pkcs1' })],
        ['SPKI DER', publicKey.export({ format: 'der', type: 'spki' })],
        ['JWK JSON', JSON.stringify(jwk)],
        ['modulus n', jwk.n!],
      ];
    };
    it.each([0, 1, 2, 3, 4])('encoding #%i of the public key as the HMAC secret', async (index) => {
      const [, secret] = publicForms()[index]!;
      await expectRefused(forgeJwt(header({ alg: 'HS256' }), claims, hs256With(secret)));
    });
  });

  it('embedded jwk header carrying the attacker key', async () => {
    const jwk = createPublicKey(attackerKey).export({ format: 'jwk' });
    await expectRefused(forgeJwt(header({ jwk }), claims, rs256With(attackerKey)));
  });

  it('jku pointing at an attacker key server: refused, and the server never called', async () => {
    await expectRefused(forgeJwt(header({ jku: keyServerUrl, kid: 'attacker' }), claims, rs256With(attackerKey)));
    expect(keyServerHits).toBe(0);
  });

  it('x5u pointing at an attacker server: refused, and the server never called', async () => {
    await expectRefused(forgeJwt(header({ x5u: keyServerUrl, kid: 'attacker' }), claims, rs256With(attackerKey)));
    expect(keyServerHits).toBe(0);
  });

  it('x5c with a self-made certificate chain', async () => {
    await expectRefused(forgeJwt(header({ x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }), claims, rs256With(attackerKey)));
  });

  it('a token signed by another key under our kid', async () => {
    await expectRefused(forgeJwt(header(), claims, rs256With(attackerKey)));
  });

  it.each([
    ['SQL in kid', "' OR '1'='1"],
    ['path traversal in kid', '../../../../dev/null'],
    ['empty kid', ''],
    ['unknown kid', 'attacker'],
  ])('kid injection: %s', async (_name, injectedKid) => {
    await expectRefused(forgeJwt(header({ kid: injectedKid }), claims, rs256With(attackerKey)));
  });

  it.each([
    ['kid as a number', 42],
    ['kid as an object', { $ne: null }],
  ])('kid type confusion: %s', async (_name, injectedKid) => {
    await expectRefused(forgeJwt(header({ kid: injectedKid }), claims, rs256With(ourKey)));
  });

  it.each([
    ['RS384', 'sha384'],
    ['RS512', 'sha512'],
  ])('algorithm swap to %s, validly signed with our own key', async (alg, digest) => {
    await expectRefused(forgeJwt(header({ alg }), claims, (input) => sign(digest, Buffer.from(input), ourKey)));
  });

  it('algorithm swap to PS256, validly signed with our own key', async () => {
    const pss = (input: string) => sign('sha256', Buffer.from(input), { key: ourKey, padding: 6, saltLength: 32 });
    await expectRefused(forgeJwt(header({ alg: 'PS256' }), claims, pss));
  });

  it('algorithm swap to ES256 with an attacker EC key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const es256 = (input: string) => sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    await expectRefused(forgeJwt(header({ alg: 'ES256' }), claims, es256));
  });

  it('crit header demanding an extension', async () => {
    await expectRefused(forgeJwt(header({ crit: ['exp'], exp: 1 }), claims, rs256With(ourKey)));
  });

  it('b64:false unencoded-payload trick (RFC 7797)', async () => {
    await expectRefused(forgeJwt(header({ b64: false, crit: ['b64'] }), claims, rs256With(ourKey)));
  });

  it('JWS JSON serialisation instead of compact', async () => {
    const [protectedHeader, payload, signature] = forgeJwt(header(), claims, rs256With(ourKey)).split('.');
    await expectRefused(JSON.stringify({ protected: protectedHeader, payload, signature }));
  });

  it('JWE compact form (five parts)', async () => {
    const jweHeader = Buffer.from(JSON.stringify({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid })).toString('base64url');
    await expectRefused(`${jweHeader}.AAAA.BBBB.CCCC.DDDD`);
  });

  it.each([
    ['standard base64 characters', (token: string) => token.replace(/-/g, '+').replace(/_/g, '/')],
    [
      'padding added',
      (token: string) =>
        token
          .split('.')
          .map((part) => `${part}==`)
          .join('.'),
    ],
    ['whitespace inside', (token: string) => `${token.slice(0, 20)} ${token.slice(20)}`],
    ['a fourth segment', (token: string) => `${token}.extra`],
    ['a flipped signature bit', (token: string) => `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`],
    ['header not JSON', (token: string) => `${Buffer.from('not json').toString('base64url')}${token.slice(token.indexOf('.'))}`],
    ['payload not JSON', (token: string) => token.replace(/\.[^.]+\./, `.${Buffer.from('[1,2').toString('base64url')}.`)],
  ])('bad encoding: %s', async (_name, mangle) => {
    await expectRefused(mangle(forgeJwt(header(), claims, rs256With(ourKey))));
  });

  it('a 10 kB token', async () => {
    await expectRefused(forgeJwt(header({ pad: 'x'.repeat(10_000) }), claims, rs256With(ourKey)));
  });

  it('a token too large for the header limit gets a shaped 431', async () => {
    const res = await t
      .http()
      .get('/auth/me')
      .set('authorization', `Bearer ${'a'.repeat(20_000)}`);
    expect(res.status).toBe(431);
    expect(res.body).toEqual({ statusCode: 431, error: 'invalid_request', message: expect.any(String) });
  });

  it('a valid token in the URL instead of the Authorization header', async () => {
    const token = forgeJwt(header(), claims, rs256With(ourKey));
    const res = await t.http().get(`/auth/me?access_token=${token}`);
    expect(res.status).toBe(401);
  });

  it('a valid token under another auth scheme', async () => {
    const token = forgeJwt(header(), claims, rs256With(ourKey));
    expect((await t.http().get('/auth/me').set('authorization', `Token ${token}`)).status).toBe(401);
    expect((await t.http().get('/auth/me').set('authorization', token)).status).toBe(401);
  });
});
