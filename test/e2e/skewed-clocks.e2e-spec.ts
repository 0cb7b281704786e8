import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, LIBFAKETIME, spawnService, waitFor, type ServiceProcess } from '../support/service-process.js';
import { resetDatabase, TEST_KEK } from '../support/test-app.js';
import type { TokenPair } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const GRACE_SECONDS = 3;

/**
 * Replicas on machines whose clocks disagree: the reference replica's clock is right, the others
 * run 5 s fast and 5 s slow under libfaketime (the whole process, not a mocked Clock). Every replica
 * keeps the database's time, so they judge a refresh retry's grace window alike. Needs
 * TEST_DATABASE_URL (several processes on one database) and Debian's faketime (.ci/run installs it).
 */
describe.skipIf(inject('databaseKind') === 'embedded' || !existsSync(LIBFAKETIME))(
  'replicas whose machine clocks are 5 s apart (needs TEST_DATABASE_URL and faketime)',
  () => {
    const services: ServiceProcess[] = [];
    const replicas: Record<'reference' | 'fast' | 'slow', string> = { reference: '', fast: '', slow: '' };

    beforeAll(async () => {
      await resetDatabase();
      const env = {
        DATABASE_URL: inject('databaseUrl'),
        HOST: '127.0.0.1',
        JWT_ISSUER: 'http://auth.test',
        KEYS_KEK: TEST_KEK,
        LOG_LEVEL: 'info',
        REFRESH_REUSE_GRACE: String(GRACE_SECONDS),
        RATE_LIMIT_IP_PER_MINUTE: '100000',
      };
      for (const [name, offset] of [
        ['reference', undefined],
        ['fast', '+5s'],
        ['slow', '-5s'],
      ] as const) {
        const port = await freePort();
        services.push(spawnService({ ...env, PORT: String(port) }, offset));
        replicas[name] = `http://127.0.0.1:${port}`;
      }
      await waitFor(() => services.every((service) => service.output().includes('Listening on')), 'the three replicas to listen', 120_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n${services.map((service) => service.output().slice(-2000)).join('\n---\n')}`);
        },
      );
      const registered = await post(replicas.reference, '/auth/register', { email: 'ann@example.com', password: PASSWORD });
      expect(registered.status).toBe(201);
    }, 150_000);
    afterAll(async () => {
      for (const service of services) service.child.kill('SIGTERM');
      await Promise.all(services.map((service) => service.exited));
    });

    const post = (base: string, path: string, body: object) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refreshedOn = async (base: string, pair: TokenPair) => post(base, '/auth/refresh', { refresh_token: pair.refresh_token });
    const freshPair = async (): Promise<TokenPair> =>
      (await (await post(replicas.reference, '/auth/login', { email: 'ann@example.com', password: PASSWORD })).json()) as TokenPair;

    it('the fast replica serves a retry within the grace window as a retry, not as reuse', async () => {
      const first = await freshPair();
      const original = await refreshedOn(replicas.reference, first);
      expect(original.status).toBe(200);

      // One real second later: inside the 3 s window, though the fast machine's own clock says 6 s.
      await sleep(1000);
      const retry = await refreshedOn(replicas.fast, first);

      expect(retry.status).toBe(200);
      expect(await retry.json()).toEqual(await original.json());
    });

    it('the slow replica does not stretch the grace window: a retry after it is reuse', async () => {
      const first = await freshPair();
      const original = (await (await refreshedOn(replicas.reference, first)).json()) as TokenPair;

      // Past the 3 s window, though the slow machine's own clock says it has not even begun.
      await sleep((GRACE_SECONDS + 1) * 1000);
      const late = await refreshedOn(replicas.slow, first);

      expect(late.status).toBe(401);
      expect((await refreshedOn(replicas.reference, original)).status).toBe(401);
    });

    it('tokens issued by any replica are accepted by every other', async () => {
      for (const issuer of Object.values(replicas)) {
        const pair = (await (await post(issuer, '/auth/login', { email: 'ann@example.com', password: PASSWORD })).json()) as TokenPair;
        for (const verifier of Object.values(replicas)) {
          const me = await fetch(`${verifier}/auth/me`, { headers: { authorization: `Bearer ${pair.access_token}` } });
          expect(me.status).toBe(200);
        }
      }
    });
  },
);
