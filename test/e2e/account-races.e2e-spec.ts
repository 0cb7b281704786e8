import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeJwt } from '../support/jwt.js';
import { linkIn, MailCatcher } from '../support/mail-catcher.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, PASSWORD, type TokenPair } from '../support/users.js';

/*
 * A password change or reset on replica A while the victim's attacker keeps logging in with the
 * old password and refreshing on replica B (the style of revocation-races.e2e-spec.ts). A second
 * after the change answered, every token of an ended session must be refused by both replicas, by
 * introspection and by refresh; a password change spares the calling session only.
 */
const onServer = inject('databaseKind') === 'server';
const TRIALS = 4;
const LOOPS = 3;
const KEEP_RACING_MS = 300;
const PROPAGATION_MS = 1000;
const NEW_PASSWORD = 'the new passphrase';

interface Collected {
  readonly pair: TokenPair;
  readonly sid: string;
  readonly receivedAt: number;
}

describe.skipIf(!onServer)('password change and reset racing logins and refreshes on another replica (needs TEST_DATABASE_URL: NOTIFY)', () => {
  let a: TestApp;
  let b: TestApp;
  let catcher: MailCatcher;
  let observer: TokenPair;
  let victims = 0;

  beforeAll(async () => {
    await resetDatabase();
    catcher = await MailCatcher.start();
    // Every request comes from 127.0.0.1: B's racing logins (each counted as a failure until it
    // succeeds) must not put the password change, from the same address, into the login backoff or
    // spend the account's hourly guess budget it shares with them (one CI run: a 429 for the change).
    const env = { SMTP_URL: catcher.url, DATABASE_POOL_SIZE: '12', LOGIN_FREE_FAILURES: '100', LOGIN_ACCOUNT_GUESSES_PER_HOUR: '10000' };
    a = await startTestApp(env);
    // B learns revocations only by LISTEN/NOTIFY within the run.
    b = await startTestApp({ ...env, REVOCATION_RESYNC_INTERVAL: '3600' });
    await createUser(a, 'observer@example.com', ['user', 'admin']);
    observer = await login(a, 'observer@example.com');
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await catcher?.stop();
  });

  async function race(change: (email: string, seed: TokenPair) => Promise<number>, spares: (sid: string, seedSid: string) => boolean) {
    const email = `racer.${++victims}@example.com`;
    await createUser(a, email);
    await catcher.nth(email, 1);
    const seed = await login(a, email);
    const seedSid = decodeJwt(seed.access_token).payload.sid as string;
    const collected: Collected[] = [];
    const anomalies: string[] = [];
    let stopping = false;
    const collect = (pair: TokenPair) =>
      collected.push({ pair, sid: decodeJwt(pair.access_token).payload.sid as string, receivedAt: performance.now() });

    const loop = async () => {
      let current: TokenPair | undefined;
      for (let round = 0; !stopping; round++) {
        if (current === undefined || round % 4 === 0) {
          const res = await b.http().post('/auth/login').send({ email, password: PASSWORD });
          if (res.status === 200) collect((current = res.body as TokenPair));
          else if (res.status === 401 || res.status === 429) await sleep(10);
          else anomalies.push(`login ${res.status}`);
        } else {
          const res = await b.http().post('/auth/refresh').send({ refresh_token: current.refresh_token });
          if (res.status === 200) collect((current = res.body as TokenPair));
          else if (res.status === 401) current = undefined;
          else anomalies.push(`refresh ${res.status}`);
        }
      }
    };
    const loops = Array.from({ length: LOOPS }, loop);
    await sleep(50 + Math.random() * 150);
    const status = await change(email, seed);
    const respondedAt = performance.now();
    await sleep(KEEP_RACING_MS);
    stopping = true;
    await Promise.all(loops);
    await sleep(Math.max(0, respondedAt + PROPAGATION_MS - performance.now()));

    const survivors: string[] = [];
    const mustDie = collected.filter((token) => !spares(token.sid, seedSid));
    for (const token of mustDie) {
      for (const [name, replica] of [
        ['A', a],
        ['B', b],
      ] as const) {
        if (
          (
            await replica
              .http()
              .get('/auth/me')
              .set(...bearer(token.pair.access_token))
          ).status === 200
        )
          survivors.push(`${name} accepts ${token.sid.slice(0, 8)}`);
      }
      const introspection = await a
        .http()
        .post('/auth/introspect')
        .set(...bearer(observer.access_token))
        .send({ token: token.pair.access_token });
      if (introspection.body.active === true) survivors.push(`introspection: ${token.sid.slice(0, 8)} active`);
    }
    const newestBySession = new Map(mustDie.map((token) => [token.sid, token]));
    for (const token of newestBySession.values()) {
      for (const [name, replica] of [
        ['B', b],
        ['A', a],
      ] as const) {
        if ((await replica.http().post('/auth/refresh').send({ refresh_token: token.pair.refresh_token })).status === 200)
          survivors.push(`refresh on ${name}: ${token.sid.slice(0, 8)}`);
      }
    }
    return { status, collected: collected.length, survivors, anomalies, seed, seedSid };
  }

  it('a password change ends every other session, including those racing it on B, and the caller goes on', { timeout: 120_000 }, async () => {
    let tokens = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const outcome = await race(
        async (_email, seed) =>
          (
            await a
              .http()
              .post('/auth/password')
              .set(...bearer(seed.access_token))
              .send({ current_password: PASSWORD, new_password: NEW_PASSWORD })
          ).status,
        (sid, seedSid) => sid === seedSid,
      );
      tokens += outcome.collected;
      expect(outcome.status).toBe(204);
      expect(outcome.survivors, outcome.survivors.join('\n')).toEqual([]);
      expect(outcome.anomalies).toEqual([]);
      for (const replica of [a, b])
        await replica
          .http()
          .get('/auth/me')
          .set(...bearer(outcome.seed.access_token))
          .expect(200);
      await a.http().post('/auth/refresh').send({ refresh_token: outcome.seed.refresh_token }).expect(200);
    }
    console.log(`[account races] password change: ${TRIALS} trials, ${tokens} tokens collected on B, 0 survivors`);
  });

  it('a password reset ends every session, including those racing it on B', { timeout: 120_000 }, async () => {
    let tokens = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const outcome = await race(
        async (email) => {
          await a.http().post('/auth/password/forgot').send({ email }).expect(202);
          const { token } = linkIn(await catcher.nth(email, 2));
          return (await a.http().post('/auth/password/reset').send({ token, new_password: NEW_PASSWORD })).status;
        },
        () => false,
      );
      tokens += outcome.collected;
      expect(outcome.status).toBe(204);
      expect(outcome.survivors, outcome.survivors.join('\n')).toEqual([]);
      expect(outcome.anomalies).toEqual([]);
    }
    console.log(`[account races] password reset: ${TRIALS} trials, ${tokens} tokens collected on B, 0 survivors`);
  });
});
