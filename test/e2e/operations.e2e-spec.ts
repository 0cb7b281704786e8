import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsServer } from '../../src/metrics/metrics-server.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login } from '../support/users.js';

/** Every route of the HTTP contract (the README's Endpoints table), as the OpenAPI document must list it. */
const CONTRACT_ROUTES = [
  'post /auth/register',
  'post /auth/login',
  'post /auth/refresh',
  'post /auth/logout',
  'get /auth/me',
  'get /.well-known/jwks.json',
  'get /.well-known/openid-configuration',
  'post /auth/introspect',
  'post /auth/revoke',
  'get /admin/users',
  'patch /admin/users/{id}',
  'get /admin/users/{id}/sessions',
  'delete /admin/sessions/{sid}',
  'delete /admin/users/{id}/sessions',
  'get /admin/keys',
  'post /admin/keys/rotate',
  'post /oauth/token',
  'post /admin/clients',
  'get /admin/clients',
  'patch /admin/clients/{id}',
  'post /admin/clients/{id}/secret',
  'delete /admin/clients/{id}',
  'get /health/live',
  'get /health/ready',
  'post /auth/password',
  'get /auth/sessions',
  'delete /auth/sessions/{sid}',
  'delete /auth/me',
  'post /auth/password/forgot',
  'post /auth/password/reset',
  'post /auth/email/verify',
  'post /auth/email/verify/resend',
  'post /auth/login/mfa',
  'post /auth/mfa/totp',
  'post /auth/mfa/totp/confirm',
  'delete /auth/mfa/totp',
  'delete /admin/users/{id}/mfa',
];

describe('operations', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('GET /docs-json documents every route of the contract, with the bearer scheme on guarded ones', async () => {
    const document = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { security?: Array<Record<string, unknown>>; requestBody?: unknown }>>;
      components: { securitySchemes: Record<string, { scheme: string }> };
    };
    const documented = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));

    expect(documented).toEqual(expect.arrayContaining(CONTRACT_ROUTES));
    expect(document.components.securitySchemes.bearer?.scheme).toBe('bearer');
    expect(document.paths['/auth/me']!.get!.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/admin/users/{id}']!.patch!.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/auth/register']!.post!.requestBody).toBeDefined();
    for (const [path, method] of [
      ['/auth/password', 'post'],
      ['/auth/sessions', 'get'],
      ['/auth/me', 'delete'],
      ['/auth/email/verify/resend', 'post'],
    ] as const) {
      expect(document.paths[path]![method]!.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
    }
    for (const path of ['/auth/password/forgot', '/auth/password/reset', '/auth/email/verify']) {
      expect(document.paths[path]!.post!.security ?? [], path).toEqual([]);
      expect(document.paths[path]!.post!.requestBody, path).toBeDefined();
    }
  });

  it('GET /docs-json documents the form encoding of the OAuth endpoints and their RFC 6749 §5.2 errors', async () => {
    type Operation = { requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown>; security?: unknown[] };
    const document = (await t.http().get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, Operation>> };
    const token = document.paths['/oauth/token']!.post!;

    expect(Object.keys(token.requestBody!.content)).toEqual(['application/x-www-form-urlencoded']);
    expect(token.responses).toHaveProperty('400');
    expect(token.responses).toHaveProperty('401');
    for (const path of ['/auth/introspect', '/auth/revoke']) {
      expect(Object.keys(document.paths[path]!.post!.requestBody!.content).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded']);
    }
    expect(document.paths['/admin/clients']!.post!.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/admin/clients']!.post!.requestBody).toBeDefined();
  });

  it('GET /docs-json passes redocly lint, and a client generator gets a schema for every answer and typed query parameters', async () => {
    const text = (await t.http().get('/docs-json').expect(200)).text;
    const document = JSON.parse(text) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: unknown }>; parameters?: Array<{ in: string; schema: { type?: string } }> }>
      >;
    };
    const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'openapi.json');
    writeFileSync(file, text);

    const lint = spawnSync(process.execPath, ['node_modules/@redocly/cli/bin/cli.js', 'lint', file, '--format=json'], { encoding: 'utf8' });
    const problems = (JSON.parse(lint.stdout) as { problems: Array<{ ruleId: string; severity: string; message: string }> }).problems;
    expect(problems.filter((problem) => problem.severity === 'error')).toEqual([]);

    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
        expect(success.length, `${method} ${path}`).toBeGreaterThan(0);
        // 202 and 204 answer no body here, and RFC 7009 §2.2 revocation a 200 without one.
        const withBody = success.filter(([status]) => !['202', '204'].includes(status) && !(method === 'post' && path === '/auth/revoke'));
        for (const [status, response] of withBody) expect(response.content, `${method} ${path} ${status}`).toBeDefined();
        expect(
          Object.keys(operation.responses).some((status) => status.startsWith('4')),
          `${method} ${path}`,
        ).toBe(true);
        for (const parameter of (operation.parameters ?? []).filter((entry) => entry.in === 'query')) expect(parameter.schema.type).toBeDefined();
      }
    }
  }, 60_000);

  it('GET /docs serves the UI with a CSP that lets it run', async () => {
    const res = await t.http().get('/docs').redirects(1);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('echoes a sane X-Request-Id and makes one up otherwise', async () => {
    const echoed = await t.http().get('/health/live').set('x-request-id', 'trace-123');
    expect(echoed.headers['x-request-id']).toBe('trace-123');
    const generated = await t.http().get('/health/live').set('x-request-id', 'bad id\twith spaces');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GET /metrics is served on its own port, never on the API port, and shows the named series after a login', async () => {
    await createUser(t, 'metrics@example.com');
    const tokens = await login(t, 'metrics@example.com');
    await t.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
    await t.http().get('/.well-known/jwks.json').expect(200);
    await t
      .http()
      .get('/auth/me')
      .set(...bearer(tokens.access_token))
      .expect(200);

    await t.http().get('/metrics').expect(404);
    const res = await request(`http://127.0.0.1:${t.app.get(MetricsServer).port}`)
      .get('/metrics')
      .expect(200);

    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    for (const series of [
      'http_request_duration_seconds_bucket{le="0.005",method="POST",route="/auth/login",status_code="200"}',
      'auth_logins_total{outcome="success"} 1',
      'auth_refreshes_total{outcome="rotated"} 1',
      'auth_jwks_requests_total{status_code="200"}',
      'auth_signing_key_age_seconds',
      'auth_revocation_list_size',
      'process_cpu_user_seconds_total',
    ]) {
      expect(res.text).toContain(series);
    }
  });
});
