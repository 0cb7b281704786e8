import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { expect } from 'vitest';
import type { TestApp } from './test-app.js';
import { bearer } from './users.js';

/** The issuer every test app announces (test-app.ts); the service itself listens on a local port. */
export const TEST_ISSUER = 'http://auth.test';

/** The admin routes' answer to POST /admin/clients. */
export interface CreatedClient {
  id: string;
  client_id: string;
  client_secret?: string;
  name: string;
  scopes: string[];
  roles: string[];
  auth_method: string;
  created_at: string;
}

export async function baseUrl(t: TestApp): Promise<string> {
  return (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
}

/**
 * fetch for the standard clients: they talk to the issuer's URLs, as discovery names them; this
 * sends those requests to the test app's port instead (DNS for auth.test, in effect).
 */
export function fetchVia(base: string): typeof fetch {
  return ((url: string | URL, init?: RequestInit) => fetch(String(url).replace(TEST_ISSUER, base), init)) as typeof fetch;
}

/** RFC 8414 discovery with oauth4webapi, as a service would start. */
export async function discoverWithOauth4webapi(base: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(TEST_ISSUER);
  const response = await oauth.discoveryRequest(issuer, {
    algorithm: 'oauth2',
    [oauth.customFetch]: fetchVia(base),
    [oauth.allowInsecureRequests]: true,
  });
  return oauth.processDiscoveryResponse(issuer, response);
}

/** OpenID discovery with openid-client v6 (its default), for one client. */
export function discoverWithOpenidClient(base: string, clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(new URL(TEST_ISSUER), clientId, undefined, auth, {
    [client.customFetch]: fetchVia(base),
    execute: [client.allowInsecureRequests],
  });
}

/** Options every oauth4webapi request of the tests carries. */
export const oauth4Options = (base: string) => ({ [oauth.customFetch]: fetchVia(base), [oauth.allowInsecureRequests]: true }) as const;

export async function createClient(t: TestApp, adminToken: string, body: Record<string, unknown>): Promise<CreatedClient> {
  const res = await t
    .http()
    .post('/admin/clients')
    .set(...bearer(adminToken))
    .send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as CreatedClient;
}

/** A signing key pair for private_key_jwt, with the public half as a JWK to register. */
export async function assertionKeyPair(
  alg: 'RS256' | 'ES256' | 'EdDSA' = 'ES256',
  kid = `key-${alg}`,
): Promise<{ privateKey: CryptoKey; publicJwk: JWK; kid: string; alg: string }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, kid, alg };
}

/** A JWK set served over HTTP on this machine, standing in for a client's jwks_uri; counts its fetches. */
export async function serveJwks(keys: JWK[]): Promise<{ url: string; fetches: () => number; close: () => Promise<void> }> {
  let fetches = 0;
  const server: Server = createServer((_request, response) => {
    fetches++;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    fetches: () => fetches,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Rejects with the RFC 6749 §5.2 error code the service answered, as the standard client reports it. */
export async function oauthErrorOf(promise: Promise<unknown>): Promise<{ error: string; status: number | undefined }> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught, 'the call was expected to fail').toBeDefined();
  const error = caught as { error?: string; status?: number; cause?: { error?: string }; response?: Response };
  // A 401 with a WWW-Authenticate challenge (Basic) comes as a challenge error; its body is the §5.2 error.
  if (error.error === undefined && error.response instanceof Response && !error.response.bodyUsed) {
    return { error: ((await error.response.json()) as { error: string }).error, status: error.response.status };
  }
  return { error: error.error ?? error.cause?.error ?? String(caught), status: error.status };
}
