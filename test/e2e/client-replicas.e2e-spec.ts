import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClient, type CreatedClient } from '../support/oauth.js';
import { freePort, spawnService, waitFor, type ServiceProcess } from '../support/service-process.js';
import { resetDatabase, startTestApp, TEST_KEK, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

/*
 * A service client disabled or deleted on replica A while its instances keep asking replica B (a
 * separate process, `node dist/src/main.js`) for tokens and using them there. Every token B hands
 * out is collected; a second after A's response (T) each must be refused by B's guard and by
 * introspection, and no request sent to B after T may get a token at all. Whatever outlives the
 * change is a survivor. Needs TEST_DATABASE_URL: a second process cannot share the embedded
 * database, and NOTIFY needs a real server (service-clients.e2e-spec.ts covers two in-process
 * replicas on both database paths).
 */

const LOOPS = 4;
/** How long the loops run before the change fires; drawn per trial. */
const HEAD_START_MS = { min: 30, max: 250 };
/** The loops go on this long after T, so requests sent after the change are checked too. */
const KEEP_RACING_MS = 300;
/** The promise under test: every replica refuses the client's tokens within a second of the response. */
const PROPAGATION_MS = 1000;
const TRIALS = 2;

const wallNow = (): number => performance.timeOrigin + performance.now();
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

interface Issued {
  readonly token: string;
  readonly sentAt: number;
}

describe.skipIf(inject('databaseKind') === 'embedded')(
  'a service client changed on one replica, raced on another process (needs TEST_DATABASE_URL)',
  () => {
    let a: TestApp;
    let b: ServiceProcess;
    let bUrl: string;
    let admin: TokenPair;

    beforeAll(async () => {
      await resetDatabase();
      a = await startTestApp();
      const port = await freePort();
      b = spawnService({
        DATABASE_URL: inject('databaseUrl'),
        DATABASE_DIRECT_URL: inject('databaseDirectUrl'),
        HOST: '127.0.0.1',
        PORT: String(port),
        JWT_ISSUER: 'http://auth.test',
        KEYS_KEK: TEST_KEK,
        LOG_LEVEL: 'warn',
        // The loops ask far more often than any real client.
        RATE_LIMIT_IP_PER_MINUTE: '1000000',
      });
      bUrl = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${bUrl}/health/ready`).catch(() => undefined))?.status === 200, 'replica B to be ready', 60_000);
      await createUser(a, 'admin@example.com', ['user', 'admin']);
      admin = await login(a, 'admin@example.com');
    });
    afterAll(async () => {
      b?.child.kill('SIGTERM');
      await b?.exited;
      await a?.close();
    });

    const tokenFromB = async (c: CreatedClient): Promise<Response> =>
      fetch(`${bUrl}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic(c.client_id, c.client_secret!), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
    const meOnB = async (token: string): Promise<number> =>
      (await fetch(`${bUrl}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    const activeByIntrospection = async (token: string): Promise<boolean> =>
      (
        await a
          .http()
          .post('/auth/introspect')
          .set(...bearer(admin.access_token))
          .type('form')
          .send({ token })
          .expect(200)
      ).body.active as boolean;

    /** One trial: loops on B, the change on A at a random moment, survivors counted. */
    async function trial(change: (c: CreatedClient) => Promise<unknown>): Promise<{ issued: number; survivors: string[] }> {
      const c = await createClient(a, admin.access_token, { name: 'raced', scopes: ['jobs'], auth_method: 'client_secret_basic' });
      const issued: Issued[] = [];
      let stop = false;
      const loops = Array.from({ length: LOOPS }, async () => {
        while (!stop) {
          const sentAt = wallNow();
          const res = await tokenFromB(c);
          if (res.status === 200) {
            const { access_token: token } = (await res.json()) as { access_token: string };
            issued.push({ token, sentAt });
            await meOnB(token);
          } else {
            await res.arrayBuffer();
            await sleep(5);
          }
        }
      });
      await sleep(HEAD_START_MS.min + Math.random() * (HEAD_START_MS.max - HEAD_START_MS.min));
      await change(c);
      const respondedAt = wallNow();
      await sleep(KEEP_RACING_MS);
      stop = true;
      await Promise.all(loops);
      await sleep(Math.max(0, respondedAt + PROPAGATION_MS - wallNow()));

      const survivors: string[] = [];
      for (const { token, sentAt } of issued) {
        if (sentAt > respondedAt) survivors.push(`a token issued by B for a request sent ${(sentAt - respondedAt).toFixed(1)} ms after T`);
        if ((await meOnB(token)) === 200) survivors.push('a token B still accepts a second after T');
        if (await activeByIntrospection(token)) survivors.push('a token introspection calls active');
      }
      return { issued: issued.length, survivors };
    }

    it.each([
      [
        'disabled',
        (c: CreatedClient) =>
          a
            .http()
            .patch(`/admin/clients/${c.id}`)
            .set(...bearer(admin.access_token))
            .send({ disabled: true })
            .expect(200),
      ],
      [
        'deleted',
        (c: CreatedClient) =>
          a
            .http()
            .delete(`/admin/clients/${c.id}`)
            .set(...bearer(admin.access_token))
            .expect(204),
      ],
    ])('%s on A: no token of the client survives on B', async (name, change) => {
      for (let round = 0; round < TRIALS; round++) {
        const { issued, survivors } = await trial(change);
        console.log(`client ${name} on A while B issued ${issued} tokens: ${survivors.length} survivors`);
        expect(issued).toBeGreaterThan(0);
        expect(survivors).toEqual([]);
      }
    });
  },
);
