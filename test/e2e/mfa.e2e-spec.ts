import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock.js';
import { loadConfig } from '../../src/config/app-config.js';
import { decodeJwt } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { fromBase32, totp } from '../support/totp.js';
import { bearer, createUser, enrollTotp, login, PASSWORD, type TokenPair } from '../support/users.js';

const onServer = inject('databaseKind') === 'server';

/** A virtual clock for every app given: codes depend on the time, and each is accepted once. */
function virtualClock(...apps: TestApp[]) {
  // Five seconds into a step, so that a step's code stays the current one while a test runs.
  const state = { now: Math.floor(Date.now() / 30_000) * 30_000 + 5_000 };
  for (const app of apps) vi.spyOn(app.app.get(Clock), 'now').mockImplementation(() => new Date(state.now));
  return {
    get now() {
      return state.now;
    },
    pass(seconds: number) {
      state.now += seconds * 1000;
    },
  };
}

interface Enrolled {
  readonly id: string;
  readonly email: string;
  readonly secret: string;
  readonly recoveryCodes: string[];
  readonly tokens: TokenPair;
}

describe('second factor: TOTP with recovery codes', () => {
  let t: TestApp;
  let clock: ReturnType<typeof virtualClock>;
  let users = 0;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({ LOGIN_FREE_FAILURES: '5', LOGIN_MAX_BACKOFF: '600' });
  });
  afterAll(() => t.close());
  beforeEach(() => {
    clock = virtualClock(t);
  });
  afterEach(() => vi.restoreAllMocks());

  const newEmail = () => `mfa${++users}@example.com`;
  const auditOf = async (userId: string, type: string) =>
    (await t.dataSource.query('SELECT details FROM audit_events WHERE user_id = $1 AND type = $2', [userId, type])) as Array<{ details: object }>;
  const sessionCount = async (userId: string) =>
    Number(((await t.dataSource.query('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [userId])) as Array<{ n: string }>)[0]!.n);

  /** A user who enrolled and confirmed with the current code; the clock then moves to the next step. */
  async function enrolled(app: TestApp = t): Promise<Enrolled> {
    const email = newEmail();
    const id = await createUser(app, email);
    const tokens = await login(app, email);
    const { secret, recoveryCodes } = await enrollTotp(app, tokens.access_token, clock.now);
    clock.pass(30);
    return { id, email, secret, recoveryCodes, tokens };
  }

  async function firstStep(email: string, app: TestApp = t): Promise<string> {
    const res = await app.http().post('/auth/login').send({ email, password: PASSWORD }).expect(403);
    return res.body.mfa_token as string;
  }

  const secondStep = (mfaToken: string, code: string, app: TestApp = t) => app.http().post('/auth/login/mfa').send({ mfa_token: mfaToken, code });

  describe('enrollment', () => {
    it('gives a secret and otpauth URI, activates it with a first code, and shows ten recovery codes kept only as hashes', async () => {
      const email = newEmail();
      const id = await createUser(t, email);
      const other = await login(t, email);
      const tokens = await login(t, email);

      const started = await t
        .http()
        .post('/auth/mfa/totp')
        .set(...bearer(tokens.access_token))
        .expect(200);
      expect(started.headers['cache-control']).toContain('no-store');
      const { secret, otpauth_uri: uri } = started.body as { secret: string; otpauth_uri: string };
      expect(fromBase32(secret)).toHaveLength(20);
      const parsed = new URL(uri);
      expect(parsed.protocol).toBe('otpauth:');
      expect(parsed.host).toBe('totp');
      expect(decodeURIComponent(parsed.pathname)).toContain(email);
      expect(Object.fromEntries(parsed.searchParams)).toMatchObject({ secret, algorithm: 'SHA1', digits: '6', period: '30', issuer: 'auth.test' });

      // Pending: the login is still one step.
      await t.http().post('/auth/login').send({ email, password: PASSWORD }).expect(200);

      // Encrypted at rest under the KEK, the user id bound in.
      const [row] = (await t.dataSource.query('SELECT secret_ciphertext, kek_id, confirmed_at FROM user_totp WHERE user_id = $1', [id])) as Array<{
        secret_ciphertext: Buffer;
        kek_id: string;
        confirmed_at: Date | null;
      }>;
      expect(row!.confirmed_at).toBeNull();
      expect(row!.secret_ciphertext.includes(fromBase32(secret))).toBe(false);
      expect(row!.kek_id).toMatch(/^[0-9a-f]{16}$/);

      const wrong = await t
        .http()
        .post('/auth/mfa/totp/confirm')
        .set(...bearer(tokens.access_token))
        .send({ code: totp(secret, clock.now, 5) })
        .expect(400);
      expect(wrong.body).toEqual({ statusCode: 400, error: 'invalid_grant', message: expect.any(String) });
      expect(await t.dataSource.query('SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL', [id])).toHaveLength(0);
      expect(await t.dataSource.query('SELECT 1 FROM mfa_recovery_codes WHERE user_id = $1', [id])).toHaveLength(0);
      await t
        .http()
        .post('/auth/mfa/totp/confirm')
        .set(...bearer(tokens.access_token))
        .send({ code: 'not a code' })
        .expect(400);

      const confirmed = await t
        .http()
        .post('/auth/mfa/totp/confirm')
        .set(...bearer(tokens.access_token))
        .send({ code: totp(secret, clock.now) })
        .expect(200);
      const codes = confirmed.body.recovery_codes as string[];
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      const stored = (await t.dataSource.query('SELECT code_hash FROM mfa_recovery_codes WHERE user_id = $1', [id])) as Array<{ code_hash: Buffer }>;
      expect(stored).toHaveLength(10);
      for (const code of codes) expect(stored.some((r) => r.code_hash.toString('latin1').includes(code))).toBe(false);

      // The other session ended; this one goes on.
      await t.http().post('/auth/refresh').send({ refresh_token: other.refresh_token }).expect(401);
      await t
        .http()
        .get('/auth/me')
        .set(...bearer(tokens.access_token))
        .expect(200);
      // The two other logins' sessions (before enrollment and while it was pending).
      expect(await auditOf(id, 'mfa_enrolled')).toEqual([{ details: { sessions: 2 } }]);

      // Active: a new enrollment is a conflict, the secret unchanged.
      const again = await t
        .http()
        .post('/auth/mfa/totp')
        .set(...bearer(tokens.access_token))
        .expect(409);
      expect(again.body.error).toBe('conflict');
      const [after] = (await t.dataSource.query('SELECT secret_ciphertext FROM user_totp WHERE user_id = $1', [id])) as Array<{
        secret_ciphertext: Buffer;
      }>;
      expect(after!.secret_ciphertext.equals(row!.secret_ciphertext)).toBe(true);
    });

    it('needs a bearer token', async () => {
      await t.http().post('/auth/mfa/totp').expect(401);
      await t.http().post('/auth/mfa/totp/confirm').send({ code: '123456' }).expect(401);
    });
  });

  describe('login in two steps', () => {
    it('answers 403 mfa_required with a single-use mfa_token and no session, then issues tokens with amr pwd+otp', async () => {
      const user = await enrolled();
      const sessionsBefore = await sessionCount(user.id);
      const first = await t.http().post('/auth/login').send({ email: user.email, password: PASSWORD }).expect(403);
      expect(first.body).toEqual({
        statusCode: 403,
        error: 'mfa_required',
        message: expect.any(String),
        mfa_token: expect.any(String),
        expires_in: 300,
      });
      expect(first.headers['cache-control']).toContain('no-store');
      expect(first.headers['set-cookie']).toBeUndefined();
      expect(await sessionCount(user.id)).toBe(sessionsBefore);
      // Only the token's hash is stored.
      const challenges = (await t.dataSource.query('SELECT token_hash FROM mfa_challenges WHERE user_id = $1', [user.id])) as Array<{
        token_hash: Buffer;
      }>;
      expect(challenges).toHaveLength(1);
      expect(challenges[0]!.token_hash.toString('latin1')).not.toContain(first.body.mfa_token);

      const second = await secondStep(first.body.mfa_token, totp(user.secret, clock.now)).expect(200);
      expect(second.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
      expect(decodeJwt(second.body.access_token).payload.amr).toEqual(['pwd', 'otp']);
      expect(await sessionCount(user.id)).toBe(sessionsBefore + 1);

      // A refresh keeps the session's methods (introspection: see amr below).
      const refreshed = await t.http().post('/auth/refresh').send({ refresh_token: second.body.refresh_token }).expect(200);
      expect(decodeJwt(refreshed.body.access_token).payload.amr).toEqual(['pwd', 'otp']);
    });

    it('with a wrong password still answers 401, mfa or not', async () => {
      const user = await enrolled();
      const res = await t.http().post('/auth/login').send({ email: user.email, password: 'wrong password here' }).expect(401);
      expect(res.body.error).toBe('invalid_credentials');
      expect(res.body.mfa_token).toBeUndefined();
    });

    it('accepts an unused recovery code once, in any case and without dashes', async () => {
      const user = await enrolled();
      const code = user.recoveryCodes[3]!;
      const ok = await secondStep(await firstStep(user.email), code.toUpperCase().replace(/-/g, '')).expect(200);
      expect(decodeJwt(ok.body.access_token).payload.amr).toEqual(['pwd', 'otp']);
      const used = await secondStep(await firstStep(user.email), code).expect(400);
      expect(used.body).toEqual({ statusCode: 400, error: 'invalid_grant', message: expect.any(String) });
      await secondStep(await firstStep(user.email), user.recoveryCodes[4]!).expect(200);
      expect(await auditOf(user.id, 'mfa_recovery_code_used')).toHaveLength(2);
    });

    it('refuses a replayed code within its window, and older steps once a newer one was used', async () => {
      const user = await enrolled();
      const code = totp(user.secret, clock.now);
      await secondStep(await firstStep(user.email), code).expect(200);
      const replay = await secondStep(await firstStep(user.email), code).expect(400);
      expect(replay.body.error).toBe('invalid_grant');
      // The previous step's code is within the drift window, but older than the one used.
      await secondStep(await firstStep(user.email), totp(user.secret, clock.now, -1)).expect(400);
      clock.pass(30);
      await secondStep(await firstStep(user.email), totp(user.secret, clock.now)).expect(200);
    });

    it('accepts one step of drift either way, not two', async () => {
      const user = await enrolled();
      // Clear of the confirmation's step, which a code of the previous step would otherwise replay.
      clock.pass(60);
      await secondStep(await firstStep(user.email), totp(user.secret, clock.now, 2)).expect(400);
      await secondStep(await firstStep(user.email), totp(user.secret, clock.now, -2)).expect(400);
      await secondStep(await firstStep(user.email), totp(user.secret, clock.now, -1)).expect(200);
      await secondStep(await firstStep(user.email), totp(user.secret, clock.now, 1)).expect(200);
    });

    it('refuses a used, an expired, a malformed and an unknown mfa_token, and another user’s code with it', async () => {
      const ann = await enrolled();
      const bob = await enrolled();

      const used = await firstStep(ann.email);
      await secondStep(used, totp(ann.secret, clock.now)).expect(200);
      clock.pass(30);
      expect((await secondStep(used, totp(ann.secret, clock.now)).expect(400)).body.error).toBe('invalid_grant');

      const expiring = await firstStep(ann.email);
      clock.pass(301);
      expect((await secondStep(expiring, totp(ann.secret, clock.now)).expect(400)).body.error).toBe('invalid_grant');

      // Ann's token with Bob's code: bound to Ann, so Bob's code is wrong for it, and it stays Ann's.
      const annsToken = await firstStep(ann.email);
      await secondStep(annsToken, totp(bob.secret, clock.now)).expect(400);
      await secondStep(annsToken, bob.recoveryCodes[0]!).expect(400);
      const annIn = await secondStep(annsToken, totp(ann.secret, clock.now)).expect(200);
      expect(decodeJwt(annIn.body.access_token).payload.sub).toBe(ann.id);
      // Bob's recovery code was not spent by the attempt.
      await secondStep(await firstStep(bob.email), bob.recoveryCodes[0]!).expect(200);

      await secondStep('x'.repeat(43), totp(ann.secret, clock.now)).expect(400);
      expect((await t.http().post('/auth/login/mfa').send({ mfa_token: annsToken }).expect(400)).body.error).toBe('invalid_request');
      expect((await t.http().post('/auth/login/mfa').send({ code: '123456' }).expect(400)).body.error).toBe('invalid_request');
    });

    it('counts wrong codes like wrong passwords: 429 after repeated failures, even for the right code', async () => {
      const user = await enrolled();
      const mfaToken = await firstStep(user.email);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await secondStep(mfaToken, totp(user.secret, clock.now, 10 + i))).status);
      expect(statuses.slice(0, 4)).toEqual([400, 400, 400, 400]);
      expect(statuses).toContain(429);
      const refused = await secondStep(mfaToken, totp(user.secret, clock.now)).expect(429);
      expect(refused.body.error).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Nothing was spent by the refusals: after the backoff the same token and code work.
      clock.pass(Number(refused.headers['retry-after']));
      const code = totp(user.secret, clock.now);
      await secondStep(mfaToken, code).expect(200);
      expect((await auditOf(user.id, 'mfa_challenge_failed')).length).toBeGreaterThanOrEqual(4);
    });
  });

  describe('removal and admin reset', () => {
    it('removes TOTP with a current code (not a wrong one), ending the other sessions', async () => {
      const user = await enrolled();
      const other = (await secondStep(await firstStep(user.email), user.recoveryCodes[0]!).expect(200)).body as TokenPair;

      const wrong = await t
        .http()
        .delete('/auth/mfa/totp')
        .set(...bearer(user.tokens.access_token))
        .send({ code: totp(user.secret, clock.now, 7) })
        .expect(400);
      expect(wrong.body.error).toBe('invalid_grant');
      await t
        .http()
        .delete('/auth/mfa/totp')
        .set(...bearer(user.tokens.access_token))
        .send({ code: user.recoveryCodes[0]! })
        .expect(400);
      expect(await t.dataSource.query('SELECT 1 FROM user_totp WHERE user_id = $1', [user.id])).toHaveLength(1);

      await t
        .http()
        .delete('/auth/mfa/totp')
        .set(...bearer(user.tokens.access_token))
        .send({ code: totp(user.secret, clock.now) })
        .expect(204);
      expect(await t.dataSource.query('SELECT 1 FROM user_totp WHERE user_id = $1', [user.id])).toHaveLength(0);
      expect(await t.dataSource.query('SELECT 1 FROM mfa_recovery_codes WHERE user_id = $1', [user.id])).toHaveLength(0);
      await t.http().post('/auth/refresh').send({ refresh_token: other.refresh_token }).expect(401);
      const plain = await login(t, user.email);
      expect(decodeJwt(plain.access_token).payload.amr).toEqual(['pwd']);
      expect(await auditOf(user.id, 'mfa_removed')).toHaveLength(1);
      // Nothing left to remove.
      await t
        .http()
        .delete('/auth/mfa/totp')
        .set(...bearer(plain.access_token))
        .send({ code: totp(user.secret, clock.now + 30_000) })
        .expect(400);
    });

    it('counts wrong codes on removal like wrong passwords (429), and removes nothing for them', async () => {
      const user = await enrolled();
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await t
          .http()
          .delete('/auth/mfa/totp')
          .set(...bearer(user.tokens.access_token))
          .send({ code: totp(user.secret, clock.now, 10 + i) });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 4)).toEqual([400, 400, 400, 400]);
      expect(statuses).toContain(429);
      expect(await t.dataSource.query('SELECT 1 FROM user_totp WHERE user_id = $1', [user.id])).toHaveLength(1);
      expect(await t.dataSource.query('SELECT 1 FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL', [user.id])).toHaveLength(10);
      const bad = await t
        .http()
        .delete('/auth/mfa/totp')
        .set(...bearer(user.tokens.access_token))
        .send({ code: 123456 })
        .expect(400);
      expect(bad.body.error).toBe('invalid_request');
    });

    it('lets an admin reset a user’s second factor: 204, sessions revoked, audited; 404 for an unknown user', async () => {
      const adminEmail = newEmail();
      await createUser(t, adminEmail, ['user', 'admin']);
      const admin = await login(t, adminEmail);
      const user = await enrolled();

      await t
        .http()
        .delete(`/admin/users/${user.id}/mfa`)
        .set(...bearer(user.tokens.access_token))
        .expect(403);
      await t
        .http()
        .delete('/admin/users/00000000-0000-4000-8000-000000000000/mfa')
        .set(...bearer(admin.access_token))
        .expect(404);
      await t
        .http()
        .delete(`/admin/users/${user.id}/mfa`)
        .set(...bearer(admin.access_token))
        .expect(204);
      await t.http().post('/auth/refresh').send({ refresh_token: user.tokens.refresh_token }).expect(401);
      await t
        .http()
        .get('/auth/me')
        .set(...bearer(user.tokens.access_token))
        .expect(401);
      const plain = await login(t, user.email);
      expect(decodeJwt(plain.access_token).payload.amr).toEqual(['pwd']);
      expect(await auditOf(user.id, 'mfa_reset')).toEqual([{ details: expect.objectContaining({ by: expect.any(String) }) }]);
    });
  });

  describe('amr', () => {
    it('is ["pwd"] for a password login and is reported by introspection', async () => {
      const adminEmail = newEmail();
      await createUser(t, adminEmail, ['user', 'admin']);
      const admin = await login(t, adminEmail);
      expect(decodeJwt(admin.access_token).payload.amr).toEqual(['pwd']);
      const user = await enrolled();
      const strong = (await secondStep(await firstStep(user.email), totp(user.secret, clock.now)).expect(200)).body as TokenPair;
      for (const [token, amr] of [
        [admin.access_token, ['pwd']],
        [strong.access_token, ['pwd', 'otp']],
      ] as const) {
        const res = await t
          .http()
          .post('/auth/introspect')
          .set(...bearer(admin.access_token))
          .send({ token })
          .expect(200);
        expect(res.body).toMatchObject({ active: true, amr });
      }
      const refresh = await t
        .http()
        .post('/auth/introspect')
        .set(...bearer(admin.access_token))
        .send({ token: strong.refresh_token })
        .expect(200);
      expect(refresh.body).toMatchObject({ active: true, token_type: 'refresh_token', amr: ['pwd', 'otp'] });
    });
  });
});

describe('ADMIN_REQUIRE_MFA', () => {
  let t: TestApp;
  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({ ADMIN_REQUIRE_MFA: 'true' });
  });
  afterAll(() => t.close());
  afterEach(() => vi.restoreAllMocks());

  it('is validated at boot', () => {
    expect(() => loadConfig({ ADMIN_REQUIRE_MFA: 'sometimes' })).toThrow(/ADMIN_REQUIRE_MFA/);
    expect(loadConfig({}).mfa.adminRequireMfa).toBe(false);
  });

  it('refuses admin routes to a token without otp in amr, and admits the admin after a login with TOTP', async () => {
    const clock = virtualClock(t);
    const id = await createUser(t, 'root@example.com', ['user', 'admin']);
    const pwdOnly = await login(t, 'root@example.com');
    const refused = await t
      .http()
      .get('/admin/users')
      .set(...bearer(pwdOnly.access_token))
      .expect(403);
    expect(refused.body).toEqual({ statusCode: 403, error: 'mfa_required', message: expect.any(String) });
    // Introspection with an admin Bearer token too.
    const introspection = await t
      .http()
      .post('/auth/introspect')
      .set(...bearer(pwdOnly.access_token))
      .send({ token: pwdOnly.access_token })
      .expect(403);
    expect(introspection.body.error).toBe('mfa_required');
    // Routes without the admin role are not affected: the admin can enroll.
    const { secret } = await enrollTotp(t, pwdOnly.access_token, clock.now);
    clock.pass(30);
    const first = await t.http().post('/auth/login').send({ email: 'root@example.com', password: PASSWORD }).expect(403);
    const strong = await t
      .http()
      .post('/auth/login/mfa')
      .send({ mfa_token: first.body.mfa_token, code: totp(secret, clock.now) })
      .expect(200);
    await t
      .http()
      .get('/admin/users')
      .set(...bearer(strong.body.access_token))
      .expect(200);
    await t
      .http()
      .post('/auth/introspect')
      .set(...bearer(strong.body.access_token))
      .send({ token: pwdOnly.access_token })
      .expect(200);
    await t
      .http()
      .get(`/admin/users/${id}/sessions`)
      .set(...bearer(pwdOnly.access_token))
      .expect(403);
  });
});

describe.skipIf(!onServer)('TOTP replay across replicas', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    await resetDatabase();
    a = await startTestApp();
    b = await startTestApp();
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });
  afterEach(() => vi.restoreAllMocks());

  it('accepts a code once when two replicas receive it at the same time', async () => {
    const clock = virtualClock(a, b);
    await createUser(a, 'twin@example.com');
    const tokens = await login(a, 'twin@example.com');
    const started = await a
      .http()
      .post('/auth/mfa/totp')
      .set(...bearer(tokens.access_token))
      .expect(200);
    await b
      .http()
      .post('/auth/mfa/totp/confirm')
      .set(...bearer(tokens.access_token))
      .send({ code: totp(started.body.secret, clock.now) })
      .expect(200);
    for (let round = 0; round < 5; round++) {
      clock.pass(30);
      const code = totp(started.body.secret, clock.now);
      const [onA, onB] = await Promise.all(
        [a, b].map(
          async (app) =>
            (await app.http().post('/auth/login').send({ email: 'twin@example.com', password: PASSWORD }).expect(403)).body.mfa_token as string,
        ),
      );
      const statuses = (
        await Promise.all([
          a.http().post('/auth/login/mfa').send({ mfa_token: onA, code }),
          b.http().post('/auth/login/mfa').send({ mfa_token: onB, code }),
        ])
      ).map((res) => res.status);
      expect(statuses.sort()).toEqual([200, 400]);
    }
  });
});
