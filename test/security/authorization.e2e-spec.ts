import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

/** The routes anyone may call. Anything else found in the app must refuse a caller without a token. */
const PUBLIC_ROUTES = new Set([
  'POST /auth/register',
  'POST /auth/login',
  // A login's second step: the mfa_token is the proof of the first.
  'POST /auth/login/mfa',
  'POST /auth/refresh',
  'POST /auth/logout',
  'POST /auth/introspect',
  'POST /auth/revoke',
  'POST /oauth/token',
  'GET /.well-known/jwks.json',
  'GET /.well-known/openid-configuration',
  'GET /.well-known/oauth-authorization-server',
  'GET /.well-known/revocations',
  'GET /health/live',
  'GET /health/ready',
  // Account recovery: the mailed token is the proof.
  'POST /auth/password/forgot',
  'POST /auth/password/reset',
  'POST /auth/email/verify',
]);

/** Every route the application registered, read from the controllers' own metadata. */
function registeredRoutes(t: TestApp): string[] {
  const routes: string[] = [];
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      if (metatype === null) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
      const prototype = (metatype as { prototype: Record<string, unknown> }).prototype;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const path = `/${[base, String(Reflect.getMetadata(PATH_METADATA, handler))].filter((part) => part && part !== '/').join('/')}`;
        routes.push(`${RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number]} ${path}`);
      }
    }
  }
  return routes;
}

describe('attack suite: authorization', () => {
  let t: TestApp;
  let user: TokenPair;
  let userId: string;
  let otherId: string;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    userId = await createUser(t, 'user@example.com');
    otherId = await createUser(t, 'other@example.com');
    user = await login(t, 'user@example.com');
  });
  afterAll(() => t.close());

  it('default deny: every registered route outside the public list refuses a request without a token', async () => {
    const routes = registeredRoutes(t);
    expect(routes.length).toBeGreaterThan(PUBLIC_ROUTES.size);
    for (const route of routes.filter((route) => !PUBLIC_ROUTES.has(route))) {
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(/:[a-z]+/g, otherId);
      const res = await t.http()[method.toLowerCase() as 'get'](url).send({});
      expect({ route, status: res.status }).toEqual({ route, status: 401 });
    }
  });

  it('default deny: the public list holds no route that does not exist', () => {
    const routes = new Set(registeredRoutes(t));
    for (const route of PUBLIC_ROUTES) expect(routes.has(route)).toBe(true);
  });

  it.each([
    ['upper case', 'GET', '/ADMIN/USERS'],
    ['trailing slash', 'GET', '/admin/users/'],
    ['double slash', 'GET', '//admin/users'],
    ['dot segment', 'GET', '/admin/./users'],
    ['percent-encoded letter', 'GET', '/admin/%75sers'],
    ['HEAD instead of GET', 'HEAD', '/admin/users'],
    ['method override header', 'POST', '/admin/users'],
  ])('path and method variants never reach an admin route for a user: %s', async (_name, method, path) => {
    const res = await t
      .http()
      [method.toLowerCase() as 'get'](path)
      .set(...bearer(user.access_token))
      .set('x-http-method-override', 'GET');
    expect([401, 403, 404]).toContain(res.status);
  });

  it("IDOR: a user cannot list another user's sessions", async () => {
    await t
      .http()
      .get(`/admin/users/${otherId}/sessions`)
      .set(...bearer(user.access_token))
      .expect(403);
  });

  it('IDOR: a user cannot list even their own sessions through the admin route', async () => {
    await t
      .http()
      .get(`/admin/users/${userId}/sessions`)
      .set(...bearer(user.access_token))
      .expect(403);
  });

  it("IDOR: a user cannot revoke someone else's session by id", async () => {
    const other = await login(t, 'other@example.com');
    const sid = decodeJwt(other.access_token).payload.sid as string;
    await t
      .http()
      .delete(`/admin/sessions/${sid}`)
      .set(...bearer(user.access_token))
      .expect(403);
    await t
      .http()
      .get('/auth/me')
      .set(...bearer(other.access_token))
      .expect(200);
  });

  it('privilege escalation: a user cannot grant themselves the admin role', async () => {
    await t
      .http()
      .patch(`/admin/users/${userId}`)
      .set(...bearer(user.access_token))
      .send({ roles: ['admin'] })
      .expect(403);
    const [row] = await t.dataSource.query('SELECT roles FROM users WHERE id = $1', [userId]);
    expect(row.roles).toEqual(['user']);
  });

  it('a user cannot rotate the signing keys or read the audit trail: 403 insufficient_role', async () => {
    for (const res of [
      await t
        .http()
        .post('/admin/keys/rotate')
        .set(...bearer(user.access_token)),
      await t
        .http()
        .get('/admin/audit')
        .set(...bearer(user.access_token)),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ statusCode: 403, error: 'insufficient_role', message: expect.any(String) });
    }
  });
});
