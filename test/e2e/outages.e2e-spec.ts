import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsServer } from '../../src/metrics/metrics-server.js';
import { LISTENER_APPLICATION_NAME, RevocationList } from '../../src/sessions/revocation-list.service.js';
import { PrivatePostgres } from '../support/private-postgres.js';
import { waitFor } from '../support/service-process.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, PASSWORD, type TokenPair } from '../support/users.js';

/*
 * Two replicas on a private PostgreSQL 15 cluster, and the faults a real estate has: the server
 * stopped for seconds (failover, restart), the whole cluster frozen (hung host or storage), and the
 * listener's backend gone silent with its connection open. Slow and needs root and Debian's
 * postgresql-15 binaries: RUN_FAULT_TESTS=1 (.ci/run) runs it.
 *
 * Timings below are hang detectors (far above what a healthy run needs), not performance targets.
 */

const RUN = process.env.RUN_FAULT_TESTS === '1';
const POOL_SIZE = 4;
/** Small, so the client-side query timeout (this plus a second) fits several times into a freeze. */
const STATEMENT_TIMEOUT_MS = 2000;
const OUTAGE_MS = 6500;
const FREEZE_MS = 15_000;
/** Every request answered during a freeze must have come back before the thaw, and well before. */
const FROZEN_REQUEST_BOUND_MS = 13_000;
/** Heartbeat every 3 s, echo missing after 3 s, then the 1 s degraded resync; plus margin for a loaded machine. */
const SILENT_LISTENER_BOUND_MS = 12_000;

interface Sample {
  replica: 'a' | 'b';
  route: 'login' | 'refresh' | 'me';
  status: number;
  retryAfter: string | undefined;
  startedAt: number;
  ms: number;
}

/** Login, refresh and /auth/me loops on both replicas, recording every answer. */
class Load {
  readonly samples: Sample[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(replicas: Record<'a' | 'b', TestApp>, emails: string[]) {
    this.loops = emails.map((email, i) => this.loop(i % 2 === 0 ? 'a' : 'b', replicas[i % 2 === 0 ? 'a' : 'b'], email));
  }

  private async loop(name: 'a' | 'b', app: TestApp, email: string): Promise<void> {
    let tokens: TokenPair | undefined;
    while (this.running) {
      const startedAt = Date.now();
      const record = (route: Sample['route'], res: { status: number; headers: Record<string, string> }) =>
        this.samples.push({
          replica: name,
          route,
          status: res.status,
          retryAfter: res.headers['retry-after'],
          startedAt,
          ms: Date.now() - startedAt,
        });
      try {
        if (tokens === undefined) {
          const res = await app.http().post('/auth/login').send({ email, password: PASSWORD });
          record('login', res);
          if (res.status === 200) tokens = res.body as TokenPair;
        } else {
          const me = await app
            .http()
            .get('/auth/me')
            .set(...bearer(tokens.access_token));
          record('me', me);
          const res = await app.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token });
          record('refresh', res);
          // A refresh refused or not answered: start over with a login (the spent token may have rotated).
          tokens = res.status === 200 ? (res.body as TokenPair) : undefined;
        }
      } catch {
        tokens = undefined;
      }
      await sleep(25);
    }
  }

  since(time: number): Sample[] {
    return this.samples.filter((sample) => sample.startedAt >= time);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

function summary(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sample of samples) counts[`${sample.route} ${sample.status}`] = (counts[`${sample.route} ${sample.status}`] ?? 0) + 1;
  return counts;
}

async function gauge(app: TestApp, name: string): Promise<number | undefined> {
  const res = await request(`http://127.0.0.1:${app.app.get(MetricsServer).port}`).get('/metrics');
  const line = (res.text as string).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function recovered(app: TestApp, email: string): Promise<boolean> {
  const res = await app.http().post('/auth/login').send({ email, password: PASSWORD });
  if (res.status !== 200) return false;
  const refreshed = await app.http().post('/auth/refresh').send({ refresh_token: res.body.refresh_token });
  return refreshed.status === 200;
}

/** Revokes (logout) a fresh session on `from` and returns how long `to` kept accepting its access token. */
async function revocationDelay(from: TestApp, to: TestApp, email: string, timeoutMs: number): Promise<number> {
  const tokens = await login(from, email);
  await to
    .http()
    .get('/auth/me')
    .set(...bearer(tokens.access_token))
    .expect(200);
  const started = performance.now();
  await from.http().post('/auth/logout').send({ refresh_token: tokens.refresh_token }).expect(204);
  await waitFor(
    async () =>
      (
        await to
          .http()
          .get('/auth/me')
          .set(...bearer(tokens.access_token))
      ).status === 401,
    'the other replica to refuse',
    timeoutMs,
  );
  return performance.now() - started;
}

describe.skipIf(!RUN)('outages on a real PostgreSQL (RUN_FAULT_TESTS=1)', () => {
  let pg: PrivatePostgres;
  let a: TestApp;
  let b: TestApp;
  const emails = ['load-1@example.com', 'load-2@example.com', 'load-3@example.com', 'load-4@example.com'];

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    // Both addresses: the pool's and the direct one (LISTEN, migrations) must name the private cluster.
    const env = {
      DATABASE_URL: pg.url(),
      DATABASE_DIRECT_URL: pg.url(),
      DATABASE_POOL_SIZE: String(POOL_SIZE),
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    };
    a = await startTestApp(env);
    b = await startTestApp(env);
    for (const email of [...emails, 'probe@example.com', 'victim@example.com']) await createUser(a, email);
  });
  afterAll(async () => {
    pg?.thaw();
    // A close that hangs must not leave the cluster behind.
    await Promise.all([a, b].map((app) => app && Promise.race([app.close().catch(() => undefined), sleep(20_000)])));
    await pg?.cleanup();
  });

  it(
    'a 6.5 s outage under load: no 500, 503 with Retry-After, one listener per replica after, recovers by itself',
    { timeout: 120_000 },
    async () => {
      const before = await pg.connections();
      const load = new Load({ a, b }, emails);
      await sleep(1000);

      const outageStart = Date.now();
      await pg.stop();
      await sleep(OUTAGE_MS);
      await pg.start();
      const upAgain = Date.now();

      // Sample the server's connections while the replicas reconnect.
      const during: Record<string, number>[] = [];
      const backends: number[] = [];
      while (Date.now() - upAgain < 6000) {
        backends.push(await pg.clientBackends());
        during.push(await pg.connections().catch((): Record<string, number> => ({})));
        await sleep(200);
      }
      console.log(JSON.stringify({ clientBackendsAfterRestart: backends, listenersAfterRestart: during.map((c) => c[LISTENER_APPLICATION_NAME]) }));
      await waitFor(
        async () => (await recovered(a, 'probe@example.com')) && (await recovered(b, 'probe@example.com')),
        'login and refresh to work again',
        30_000,
      );
      await load.stop();
      await waitFor(
        async () => ((await pg.connections().catch((): Record<string, number> => ({})))[LISTENER_APPLICATION_NAME] ?? 0) === 2,
        'one listener per replica',
        15_000,
      ).catch(() => undefined);
      const after = await pg.connections().catch((): Record<string, number> => ({ unreachable: -1 }));

      const samples = load.since(outageStart);
      const errors = samples.filter((sample) => sample.status >= 500);
      const maxListeners = Math.max(...during.map((counts) => counts[LISTENER_APPLICATION_NAME] ?? 0));
      const maxTotal = Math.max(...backends);
      console.log(
        JSON.stringify({
          outage: 'stop 6.5 s',
          connectionsBefore: before,
          maxListenersDuringRecovery: maxListeners,
          maxConnectionsDuringRecovery: maxTotal,
          connectionsAfter: after,
          answers: summary(samples),
          status500: samples.filter((s) => s.status === 500).length,
          status503WithoutRetryAfter: errors.filter((s) => s.status === 503 && s.retryAfter === undefined).length,
        }),
      );

      expect(samples.filter((s) => s.status === 500)).toEqual([]);
      expect(errors.every((s) => s.status === 503 && Number(s.retryAfter) >= 1)).toBe(true);
      expect(errors.length).toBeGreaterThan(0);
      expect(maxListeners).toBeLessThanOrEqual(2);
      expect(maxTotal).toBeLessThanOrEqual(2 * (POOL_SIZE + 1) + 1); // + the harness's own connection
      expect(after[LISTENER_APPLICATION_NAME]).toBe(2);

      const delay = await revocationDelay(a, b, 'victim@example.com', 10_000);
      console.log(`after the outage, a revocation on A reached B in ${delay.toFixed(0)} ms`);
      expect(delay).toBeLessThan(2500);
    },
  );

  it(
    'a frozen cluster (SIGSTOP 15 s): requests fail fast as 503, readiness 503 at once, tokens still verify, recovers after the thaw',
    { timeout: 120_000 },
    async () => {
      const load = new Load({ a, b }, emails);
      await sleep(1000);

      const freezeStart = Date.now();
      await pg.freeze();
      await sleep(1000);
      const readyStarted = Date.now();
      const ready = await Promise.all([a.http().get('/health/ready'), b.http().get('/health/ready')]);
      const readyMs = Date.now() - readyStarted;
      await sleep(freezeStart + FREEZE_MS - Date.now());
      const thawAt = Date.now();
      pg.thaw();

      await waitFor(
        async () => (await recovered(a, 'probe@example.com')) && (await recovered(b, 'probe@example.com')),
        'login and refresh after the thaw',
        30_000,
      );
      await waitFor(
        async () => (await a.http().get('/health/ready')).status === 200 && (await b.http().get('/health/ready')).status === 200,
        'ready again',
        30_000,
      );
      await load.stop();
      // The reconnect attempts queued in the frozen server's backlog leave nothing behind.
      await waitFor(async () => ((await pg.connections())[LISTENER_APPLICATION_NAME] ?? 0) === 2, 'one listener per replica after the thaw', 15_000);

      const duringFreeze = load.samples.filter((s) => s.startedAt >= freezeStart && s.startedAt < thawAt);
      const databaseBacked = duringFreeze.filter((s) => s.route !== 'me');
      const longest = Math.max(0, ...databaseBacked.map((s) => s.ms));
      console.log(
        JSON.stringify({
          outage: 'freeze 15 s',
          readiness: ready.map((res) => res.status),
          readinessMs: readyMs,
          longestDatabaseRequestMs: longest,
          // Started early in the freeze and answered only after the thaw: a request that waited for the database.
          hungUntilThaw: databaseBacked.filter((s) => s.startedAt < thawAt - FROZEN_REQUEST_BOUND_MS && s.startedAt + s.ms >= thawAt).length,
          answers: summary(duringFreeze),
          status500: duringFreeze.filter((s) => s.status === 500).length,
        }),
      );

      expect(ready.map((res) => res.status)).toEqual([503, 503]);
      expect(readyMs).toBeLessThan(6000);
      expect(longest).toBeLessThan(FROZEN_REQUEST_BOUND_MS);
      expect(databaseBacked.filter((s) => s.status >= 500).every((s) => s.status === 503 && s.retryAfter !== undefined)).toBe(true);
      expect(databaseBacked.some((s) => s.status === 503)).toBe(true);
      expect(duringFreeze.filter((s) => s.status === 500)).toEqual([]);
      // Token verification needs no database.
      expect(duringFreeze.filter((s) => s.route === 'me').every((s) => s.status === 200)).toBe(true);
    },
  );

  it(
    'a silent listener (its backend SIGSTOPped) is noticed by the heartbeat; revocations arrive by the 1 s resync, then by a new listener',
    { timeout: 120_000 },
    async () => {
      await waitFor(async () => (await gauge(b, 'auth_revocation_listener_up')) === 1, "B's listener up", 30_000);
      const pid = b.app.get(RevocationList).listenerBackendPid;
      expect(pid).toBeDefined();
      expect(await pg.backendPids(LISTENER_APPLICATION_NAME)).toContain(pid);

      pg.freezeBackend(pid!);
      const delay = await revocationDelay(a, b, 'victim@example.com', 60_000).catch(() => Number.POSITIVE_INFINITY);
      await waitFor(
        async () => (await gauge(b, 'auth_revocation_listener_up')) === 1 && b.app.get(RevocationList).listenerBackendPid !== pid,
        'B to listen again on a new connection',
        30_000,
      );
      const afterReconnect = await revocationDelay(a, b, 'victim@example.com', 10_000);
      pg.thaw();
      console.log(JSON.stringify({ outage: 'silent listener', revocationDelayMs: Math.round(delay), afterReconnectMs: Math.round(afterReconnect) }));

      expect(delay).toBeLessThan(SILENT_LISTENER_BOUND_MS);
      expect(afterReconnect).toBeLessThan(2500);
      await waitFor(async () => ((await pg.connections())[LISTENER_APPLICATION_NAME] ?? 0) === 2, 'the stopped backend to go once thawed', 15_000);
    },
  );
});
