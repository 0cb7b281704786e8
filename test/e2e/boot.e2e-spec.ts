import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnService, waitFor } from '../support/service-process.js';

describe('booting the compiled service', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'auth-boot-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it.each([
    ['PORT', 'not-a-port'],
    ['DATABASE_URL', 'mysql://db/auth'],
    ['ARGON2_TIME_COST', '1'],
  ])('stops with exit code 1 and names %s when its value is bad', async (name, value) => {
    const service = spawnService({ [name]: value });

    expect(await service.exited).toBe(1);
    expect(service.output()).toContain(name);
  });

  it('refuses to start in production without DATABASE_URL', async () => {
    const service = spawnService({ NODE_ENV: 'production' });

    expect(await service.exited).toBe(1);
    expect(service.output()).toMatch(/DATABASE_URL: is required when NODE_ENV=production/);
  });

  it('says on every attempt why it cannot reach the database, holds the port meanwhile, and gives up after DATABASE_STARTUP_TIMEOUT', async () => {
    const [port, closedPort] = [await freePort(), await freePort()];
    const service = spawnService({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `postgres://auth:secret-password@127.0.0.1:${closedPort}/auth`,
      DATABASE_STARTUP_TIMEOUT: '3',
      KEYS_KEK: Buffer.alloc(32, 7).toString('base64'),
    });

    await waitFor(() => service.output().includes('Waiting for the database (attempt 1): ECONNREFUSED'), 'the first attempt to be reported');
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    expect(await service.exited).toBe(1);
    expect(service.output()).toMatch(/did not answer within 3 s \(DATABASE_STARTUP_TIMEOUT\): ECONNREFUSED/);
    expect(service.output()).not.toContain('secret-password');
  });

  it('warns about the embedded database, shuts down cleanly on SIGTERM and keeps its data', async () => {
    const port = await freePort();
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_DATABASE_DIR: join(dataDir, 'pglite'),
      DEV_KEYS_KEK_FILE: join(dataDir, 'keys-kek'),
      LOG_LEVEL: 'info',
      REFRESH_TOKEN_COOKIE: 'true',
    };
    const url = `http://127.0.0.1:${port}`;
    const register = () =>
      fetch(`${url}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'persist@example.com', password: 'correct horse battery' }),
      });

    const first = spawnService(env);
    // While the database starts and migrations run: alive, not ready, and never a refused connection once the port is held.
    const readiness: number[] = [];
    let liveWhileStarting: number | undefined;
    await waitFor(async () => {
      const status = await fetch(`${url}/health/ready`)
        .then((res) => res.status)
        .catch(() => 0);
      if (status === 503 && liveWhileStarting === undefined) liveWhileStarting = (await fetch(`${url}/health/live`)).status;
      readiness.push(status);
      return status === 200;
    }, 'the first start');
    expect(readiness).toContain(503);
    expect(liveWhileStarting).toBe(200);
    expect(first.output()).toMatch(/EMBEDDED Postgres.*development only/);
    expect(first.output()).toMatch(/DEVELOPMENT key-encryption key/);
    expect((await register()).status).toBe(201);
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'boot-test-1' },
      body: JSON.stringify({ email: 'persist@example.com', password: 'correct horse battery' }),
    });
    const tokens = (await login.json()) as { access_token: string; refresh_token: string };
    await fetch(`${url}/auth/me?access_token=${tokens.access_token}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    await fetch(`${url}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: `http://localhost:${port}`, cookie: `refresh_token=${tokens.refresh_token}` },
      body: '{}',
    });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // One JSON line per request with its id; never a password, token, cookie or Authorization header.
    expect(first.output()).toContain('"req":{"id":"boot-test-1","method":"POST","path":"/auth/login"');
    // Probes are answered, not logged: the readiness polls above left no request line.
    expect(first.output()).not.toMatch(/"path":"\/health\/(ready|live)"/);
    for (const secret of ['correct horse battery', tokens.access_token, tokens.refresh_token, 'Bearer', 'cookie']) {
      expect(first.output()).not.toContain(secret);
    }

    const second = spawnService(env);
    await waitFor(() => second.output().includes('Listening on'), 'the restart on the same data folder');
    expect((await register()).status).toBe(409);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // Two cold starts of the embedded database: on a loaded two-core machine, well over the default 30 s.
  }, 120_000);
});
