import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeJwt } from '../support/jwt.js';
import { freePort, spawnService, waitFor, type ServiceProcess } from '../support/service-process.js';
import { resetDatabase, TEST_KEK } from '../support/test-app.js';
import type { TokenPair } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

/**
 * Two real service processes (`node dist/src/main.js`) on two ports and one database, as two
 * replicas: what one does, the other must agree with. Needs TEST_DATABASE_URL: two processes
 * cannot share the embedded database, and NOTIFY needs a real server.
 */
describe.skipIf(inject('databaseKind') === 'embedded')('two service processes on one database (needs TEST_DATABASE_URL)', () => {
  const services: ServiceProcess[] = [];
  let a: string;
  let b: string;

  beforeAll(async () => {
    await resetDatabase();
    const env = {
      DATABASE_URL: inject('databaseUrl'),
      DATABASE_DIRECT_URL: inject('databaseDirectUrl'),
      HOST: '127.0.0.1',
      JWT_ISSUER: 'http://auth.test',
      KEYS_KEK: TEST_KEK,
      BOOTSTRAP_ADMIN_EMAIL: 'root@example.com',
      BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap password',
      LOG_LEVEL: 'info',
    };
    const ports = [await freePort(), await freePort()];
    for (const port of ports) services.push(spawnService({ ...env, PORT: String(port) }));
    [a, b] = ports.map((port) => `http://127.0.0.1:${port}`) as [string, string];
    await waitFor(() => services.every((service) => service.output().includes('Listening on')), 'both processes to listen');
  });
  afterAll(async () => {
    for (const service of services) service.child.kill('SIGTERM');
    await Promise.all(services.map((service) => service.exited));
  });

  const post = async (base: string, path: string, body: object, token?: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const get = (base: string, path: string, token?: string) => fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('agree on users, tokens, key rotations and revocations', async () => {
    expect((await post(a, '/auth/register', { email: 'ann@example.com', password: PASSWORD })).status).toBe(201);
    const ann = (await (await post(b, '/auth/login', { email: 'ann@example.com', password: PASSWORD })).json()) as TokenPair;
    const admin = (await (await post(b, '/auth/login', { email: 'root@example.com', password: 'bootstrap password' })).json()) as TokenPair;
    for (const base of [a, b]) expect((await get(base, '/auth/me', ann.access_token)).status).toBe(200);

    const rotation = (await (await post(a, '/admin/keys/rotate', {}, admin.access_token)).json()) as { kid: string };
    const started = Date.now();
    await waitFor(async () => (await (await get(b, '/.well-known/jwks.json')).text()).includes(rotation.kid), 'B to publish the key', 15_000);
    console.log(`process B published the key rotated on A after ${Date.now() - started} ms`);

    const sid = decodeJwt(ann.access_token).payload.sid as string;
    const revoke = await fetch(`${a}/admin/sessions/${sid}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.access_token}` } });
    expect(revoke.status).toBe(204);
    const revokedAt = Date.now();
    await waitFor(async () => (await get(b, '/auth/me', ann.access_token)).status === 401, 'B to refuse the revoked token', 5000);
    console.log(`process B refused the session revoked on A after ${Date.now() - revokedAt} ms`);
    expect((await post(b, '/auth/refresh', { refresh_token: ann.refresh_token })).status).toBe(401);
  });

  it('logged one JSON line per request with its id, a request whose client left included, and never a token, password or credential', async () => {
    // A login (argon2: milliseconds) whose client hangs up as soon as it has sent it.
    const body = JSON.stringify({ email: 'ann@example.com', password: PASSWORD });
    const socket = connect(Number(new URL(a).port), '127.0.0.1', () => {
      socket.write(`POST /auth/login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      setTimeout(() => socket.destroy(), 1);
    });
    await waitFor(() => services[0]!.output().includes('request aborted'), 'the aborted login to be logged');

    const lines = services.flatMap((service) => service.output().split('\n')).filter((line) => line.startsWith('{'));
    const requestLines = lines.map((line) => JSON.parse(line)).filter((entry) => entry.req !== undefined);
    expect(requestLines.filter((entry) => entry.msg === 'request aborted').map((entry) => entry.req.path)).toEqual(['/auth/login']);
    expect(requestLines.length).toBeGreaterThan(5);
    for (const entry of requestLines)
      expect(entry.req).toEqual({ id: expect.any(String), method: expect.any(String), path: expect.any(String), remoteAddress: expect.any(String) });
    const everything = services.map((service) => service.output()).join('\n');
    for (const secret of [PASSWORD, 'bootstrap password', 'Bearer ', 'refresh_token":"']) expect(everything).not.toContain(secret);
    // A JWS (header and payload both base64url JSON), not the bare prefix: a key id is 43 random
    // base64url characters and once held "eyJ" by chance (one CI run: "UeeyJODJ2x…").
    expect(everything).not.toMatch(/eyJ[\w-]*\.eyJ[\w-]*\./);
  });
});
