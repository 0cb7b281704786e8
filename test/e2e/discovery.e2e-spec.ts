import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

describe('discovery metadata', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it.each(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'])(
    'GET %s describes the issuer, its keys and endpoints',
    async (path) => {
      const res = await t.http().get(path).expect(200);

      expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
      expect(JSON.parse(res.text)).toMatchObject({
        issuer: 'http://auth.test',
        jwks_uri: 'http://auth.test/.well-known/jwks.json',
        token_endpoint: 'http://auth.test/auth/login',
        revocation_endpoint: 'http://auth.test/auth/revoke',
        introspection_endpoint: 'http://auth.test/auth/introspect',
        grant_types_supported: ['password', 'refresh_token'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
      await t.http().get(path).set('if-none-match', res.headers.etag as string).expect(304);
    },
  );
});
