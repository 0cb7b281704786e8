import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

describe('discovery metadata', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it.each(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'])(
    'GET %s describes the issuer, its keys and endpoints, and only what exists',
    async (path) => {
      const res = await t.http().get(path).expect(200);

      expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
      const metadata = JSON.parse(res.text) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        issuer: 'http://auth.test',
        jwks_uri: 'http://auth.test/.well-known/jwks.json',
        token_endpoint: 'http://auth.test/oauth/token',
        revocation_endpoint: 'http://auth.test/auth/revoke',
        introspection_endpoint: 'http://auth.test/auth/introspect',
        grant_types_supported: ['refresh_token', 'client_credentials'],
        response_types_supported: ['none'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
        token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
        revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
      });
      // No ID tokens are issued, no authorization endpoint exists, and the password grant is gone (RFC 9700 §2.4).
      expect(metadata).not.toHaveProperty('id_token_signing_alg_values_supported');
      expect(metadata).not.toHaveProperty('authorization_endpoint');
      // RFC 8414 §3.2: members with zero elements are omitted, never sent empty.
      for (const value of Object.values(metadata)) if (Array.isArray(value)) expect(value.length).toBeGreaterThan(0);
      await t
        .http()
        .get(path)
        .set('if-none-match', res.headers.etag as string)
        .expect(304);
    },
  );
});
