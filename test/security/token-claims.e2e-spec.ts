import type { KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KeysService } from '../../src/keys/keys.service.js';
import { decodeJwt, forgeJwt, rs256With } from '../support/jwt.js';
import { waitFor } from '../support/service-process.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login } from '../support/users.js';

/** Tokens validly signed with our key whose claims must still be refused. */
describe('attack suite: token claims', () => {
  let t: TestApp;
  let claims: Record<string, unknown>;
  let kid: string;
  let ourKey: KeyObject;
  let admin: string;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    await createUser(t, 'victim@example.com');
    await createUser(t, 'admin@example.com', ['user', 'admin']);
    admin = (await login(t, 'admin@example.com')).access_token;
    claims = decodeJwt((await login(t, 'victim@example.com')).access_token).payload;
    ({ kid, privateKey: ourKey } = t.app.get(KeysService).signingKey());
  });
  afterAll(() => t.close());

  const signed = (override: Record<string, unknown>, headerOverride: Record<string, unknown> = {}) =>
    forgeJwt({ alg: 'RS256', typ: 'at+jwt', kid, ...headerOverride }, { ...claims, ...override }, rs256With(ourKey));
  const expectRefused = async (token: string) => {
    const res = await t
      .http()
      .get('/auth/me')
      .set(...bearer(token));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
  };

  it.each<[string, Record<string, unknown>]>([
    ['expired beyond the clock skew', { exp: now() - 31 }],
    ['not yet valid (nbf in the future)', { nbf: now() + 3600 }],
    ['issued in the future', { iat: now() + 3600 }],
    ['wrong issuer', { iss: 'https://evil.example' }],
    ['issuer differing only in a trailing slash', { iss: 'http://auth.test/' }],
    ['wrong audience', { aud: 'billing-service' }],
    ['audience as an array without ours', { aud: ['billing-service'] }],
    ['non-finite exp (1e309 parses as Infinity)', { exp: 'INFINITY' }],
    ['exp as a string', { exp: String(now() + 600) }],
    ['exp missing', { exp: undefined }],
    ['iat missing', { iat: undefined }],
    ['sid missing', { sid: undefined }],
    ['roles not an array', { roles: 'admin' }],
    ['sub as a number', { sub: 12345 }],
  ])('%s', async (_name, override) => {
    let token = signed(override);
    if (override.exp === 'INFINITY') {
      // JSON has no Infinity; 1e309 is what an attacker sends to get one out of JSON.parse.
      const [head] = token.split('.');
      const body = JSON.stringify({ ...claims }).replace(/"exp":\d+/, '"exp":1e309');
      const input = `${head}.${Buffer.from(body).toString('base64url')}`;
      token = `${input}.${rs256With(ourKey)(input).toString('base64url')}`;
    }
    await expectRefused(token);
  });

  it.each([
    ['typ JWT', { typ: 'JWT' }],
    ['typ missing', { typ: undefined }],
    ['typ of an ID token', { typ: 'id_token+jwt' }],
  ])('wrong token type: %s', async (_name, headerOverride) => {
    await expectRefused(signed({}, headerOverride));
  });

  it('a revoked session', async () => {
    await createUser(t, 'revoked@example.com');
    const tokens = await login(t, 'revoked@example.com');
    await t.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
    await expectRefused(tokens.access_token);
  });

  it('a disabled subject', async () => {
    const id = await createUser(t, 'disabled@example.com');
    const tokens = await login(t, 'disabled@example.com');
    await t
      .http()
      .patch(`/admin/users/${id}`)
      .set(...bearer(admin))
      .send({ disabled: true })
      .expect(200);
    await expectRefused(tokens.access_token);
  });

  it.skipIf(inject('databaseKind') === 'embedded')(
    'a deleted subject (deleted in the database; announced by trigger, needs NOTIFY, so the real server)',
    async () => {
      const id = await createUser(t, 'deleted@example.com');
      const tokens = await login(t, 'deleted@example.com');
      await t.dataSource.query('DELETE FROM users WHERE id = $1', [id]);
      await waitFor(
        async () =>
          (
            await t
              .http()
              .get('/auth/me')
              .set(...bearer(tokens.access_token))
          ).status === 401,
        'refusal',
        5000,
      );
    },
  );
});
