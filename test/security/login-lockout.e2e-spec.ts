import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock.js';
import { PasswordHasher } from '../../src/users/password-hasher.service.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, PASSWORD } from '../support/users.js';

const GUESSES_PER_HOUR = 20;

/**
 * Every row of the throttle tables with the id of the transaction that wrote its current version
 * (xmin): a refusal that wrote anything, an update or a new row, changes this list.
 */
const throttleRowVersions = (t: TestApp, ...tables: string[]) =>
  t.dataSource.query(
    tables.map((table) => `SELECT '${table}' AS "table", xmin::text AS version FROM ${table}`).join(' UNION ALL ') + ' ORDER BY 1, 2',
  );
const HOME = '198.51.100.7';
const attackerAddress = (n: number) => `203.0.113.${n % 16}`;

/**
 * The login throttle against attackers who want to guess a password or keep its owner out: every
 * address an attacker may use is a distinct client (TRUST_PROXY=loopback, X-Forwarded-For), and
 * time moves on a virtual clock.
 */
describe('attack suite: login throttling and lockout', () => {
  let t: TestApp;
  let victim: string;
  let victimId: string;
  let now: number;
  let accounts = 0;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({
      TRUST_PROXY: 'loopback',
      LOGIN_FREE_FAILURES: '5',
      LOGIN_MAX_BACKOFF: '600',
      LOGIN_ACCOUNT_GUESSES_PER_HOUR: String(GUESSES_PER_HOUR),
    });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    // A fresh account per test: refusals a replica remembers are not in the tables a test empties.
    victim = `victim${++accounts}@example.com`;
    victimId = await createUser(t, victim);
    now = Date.now();
    vi.spyOn(t.app.get(Clock), 'now').mockImplementation(() => new Date(now));
  });
  afterEach(() => vi.restoreAllMocks());

  const passTime = (seconds: number) => {
    now += seconds * 1000;
  };
  const attempt = (email: string, password: string, from: { ip: string; device?: string }) => {
    const req = t.http().post('/auth/login').set('x-forwarded-for', from.ip);
    if (from.device !== undefined) void req.set('cookie', `login_device=${from.device}`);
    return req.send({ email, password });
  };
  const deviceProofOf = (res: { headers: Record<string, unknown> }): string => {
    const cookies = (res.headers['set-cookie'] ?? []) as string[];
    const cookie = cookies.find((line) => line.startsWith('login_device='));
    expect(cookie).toMatch(/^login_device=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/auth\/login; HttpOnly; Secure; SameSite=Strict$/);
    return cookie!.slice('login_device='.length, cookie!.indexOf(';'));
  };
  /** The attacker spends the account's whole hourly budget from rotating addresses. */
  const spendBudget = async (email: string) => {
    for (let i = 0; i < GUESSES_PER_HOUR; i++) await attempt(email, `guess ${i}`, { ip: attackerAddress(i) }).expect(401);
    await attempt(email, 'one more', { ip: '192.0.2.200' }).expect(429);
  };
  const adminToken = async () => {
    const admin = `admin${accounts}@example.com`;
    await createUser(t, admin, ['user', 'admin']);
    return (await login(t, admin)).access_token;
  };

  describe('one client guessing', () => {
    it('after the free failures the client backs off with 429 and Retry-After', async () => {
      for (let i = 0; i < 6; i++) await attempt(victim, `guess ${i}`, { ip: HOME }).expect(401);

      const res = await attempt(victim, 'guess 7', { ip: HOME });

      expect(res.status).toBe(429);
      expect(res.body).toEqual({ statusCode: 429, error: 'rate_limited', message: expect.any(String) });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    });

    it('the right password during its backoff is still 429 (no oracle), and works once it has passed', async () => {
      for (let i = 0; i < 6; i++) await attempt(victim, `guess ${i}`, { ip: HOME }).expect(401);

      await attempt(victim, PASSWORD, { ip: HOME }).expect(429);
      passTime(2);
      await attempt(victim, PASSWORD, { ip: HOME }).expect(200);
    });

    it('of 50 simultaneous guesses only the free ones plus one get a password check', async () => {
      const verify = vi.spyOn(t.app.get(PasswordHasher), 'verify');

      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(victim, `guess ${i}`, { ip: HOME })));

      const statuses = results.map((res) => res.status);
      expect(statuses.filter((status) => status === 401)).toHaveLength(6);
      expect(statuses.filter((status) => status === 429)).toHaveLength(44);
      expect(verify).toHaveBeenCalledTimes(6);
    });

    it('parallel correct logins on one account never fail with a 500', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => attempt(victim, PASSWORD, { ip: HOME })));

      expect(results.every((res) => res.status === 200 || res.status === 429)).toBe(true);
      expect(results.some((res) => res.status === 200)).toBe(true);
    });

    it('the backoff decays by itself', async () => {
      for (let i = 0; i < 12; i++) await attempt(victim, `guess ${i}`, { ip: HOME });
      passTime(601);
      await attempt(victim, PASSWORD, { ip: HOME }).expect(200);
    });

    it('unknown accounts are throttled the same way (no enumeration through 429)', async () => {
      for (let i = 0; i < 6; i++) await attempt('nobody@example.com', `guess ${i}`, { ip: HOME }).expect(401);
      await attempt('nobody@example.com', 'guess', { ip: HOME }).expect(429);
    });

    it("another client's failures do not delay the real user's own address", async () => {
      for (let i = 0; i < 10; i++) await attempt(victim, `guess ${i}`, { ip: attackerAddress(0) });
      await attempt(victim, PASSWORD, { ip: HOME }).expect(200);
    });
  });

  describe('an attacker who wants to keep the owner out', () => {
    it('an attacker at every expiry from 16 addresses for two hours: the real user on a known device gets in every time', async () => {
      const device = deviceProofOf(await attempt(victim, PASSWORD, { ip: HOME }).expect(200));
      const guessesPerHour = [0, 0];
      const ownerOutcomes: number[] = [];

      const start = now;
      for (let step = 0; now < start + 2 * 3_600_000; step++) {
        const res = await attempt(victim, `guess ${step}`, { ip: attackerAddress(step) });
        expect([401, 429]).toContain(res.status);
        if (res.status === 401) guessesPerHour[Math.floor((now - start) / 3_600_000)]!++;
        // The attacker comes back the moment the answer allows, the owner every ten minutes.
        const wait = res.status === 429 ? Number(res.headers['retry-after']) : 1;
        const nextOwnerTry = start + (ownerOutcomes.length + 1) * 600_000;
        if (now + wait * 1000 >= nextOwnerTry) {
          now = nextOwnerTry;
          ownerOutcomes.push((await attempt(victim, PASSWORD, { ip: HOME, device })).status);
        } else {
          passTime(wait);
        }
      }

      expect(ownerOutcomes.length).toBeGreaterThanOrEqual(11);
      expect(ownerOutcomes.every((status) => status === 200)).toBe(true);
      // The budget's burst plus what drains in an hour, then the drain alone.
      expect(guessesPerHour[0]).toBeLessThanOrEqual(2 * GUESSES_PER_HOUR);
      expect(guessesPerHour[1]).toBeLessThanOrEqual(GUESSES_PER_HOUR + 1);
    });

    it("the owner's successful logins hand the attacker no fresh guesses", async () => {
      const device = deviceProofOf(await attempt(victim, PASSWORD, { ip: HOME }).expect(200));
      await spendBudget(victim);

      await attempt(victim, PASSWORD, { ip: HOME, device }).expect(200);
      await attempt(victim, PASSWORD, { ip: HOME, device }).expect(200);

      await attempt(victim, 'next guess', { ip: '192.0.2.201' }).expect(429);
    });

    it('a new device of the owner waits while the budget is spent; an admin can clear the account (audited)', async () => {
      await spendBudget(victim);
      const refused = await attempt(victim, PASSWORD, { ip: '192.0.2.77' });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(60);

      const admin = await adminToken();
      await t
        .http()
        .delete(`/admin/users/${victimId}/login-throttle`)
        .set(...bearer(admin))
        .expect(204);

      await attempt(victim, PASSWORD, { ip: '192.0.2.77' }).expect(200);
      const [event] = await t.dataSource.query(`SELECT details FROM audit_events WHERE type = 'login_throttle_cleared' AND user_id = $1`, [victimId]);
      expect(event.details).toEqual({ by: expect.any(String) });
    });

    it('the clearing route: 401 without a token, 403 for a non-admin, 404 for an unknown user, 400 for a malformed id', async () => {
      const user = (await login(t, victim)).access_token;
      await t.http().delete(`/admin/users/${victimId}/login-throttle`).expect(401);
      await t
        .http()
        .delete(`/admin/users/${victimId}/login-throttle`)
        .set(...bearer(user))
        .expect(403);
      const admin = await adminToken();
      await t
        .http()
        .delete('/admin/users/00000000-0000-4000-8000-000000000000/login-throttle')
        .set(...bearer(admin))
        .expect(404);
      await t
        .http()
        .delete('/admin/users/not-a-uuid/login-throttle')
        .set(...bearer(admin))
        .expect(400);
    });

    it('a device proof is bound to its account: one from another account, or a forged one, earns no trust', async () => {
      const other = `other${accounts}@example.com`;
      await createUser(t, other);
      const othersDevice = deviceProofOf(await attempt(other, PASSWORD, { ip: HOME }).expect(200));
      await spendBudget(victim);

      await attempt(victim, PASSWORD, { ip: HOME, device: othersDevice }).expect(429);
      await attempt(victim, PASSWORD, { ip: HOME, device: 'A'.repeat(43) }).expect(429);
      await attempt(victim, PASSWORD, { ip: HOME, device: 'not even the right shape' }).expect(429);
    });

    it('a device proof ends when an admin revokes the user’s sessions', async () => {
      const device = deviceProofOf(await attempt(victim, PASSWORD, { ip: HOME }).expect(200));
      const admin = await adminToken();
      await t
        .http()
        .delete(`/admin/users/${victimId}/sessions`)
        .set(...bearer(admin))
        .expect(204);
      await spendBudget(victim);

      await attempt(victim, PASSWORD, { ip: HOME, device }).expect(429);
    });

    it('a stolen device proof guessing backs off like any other client', async () => {
      const device = deviceProofOf(await attempt(victim, PASSWORD, { ip: HOME }).expect(200));
      for (let i = 0; i < 6; i++) await attempt(victim, `guess ${i}`, { ip: attackerAddress(i), device }).expect(401);
      await attempt(victim, 'guess', { ip: attackerAddress(7), device }).expect(429);
    });
  });

  it("guesses on an account whose budget is spent, from any address, leave the account's throttle rows untouched", async () => {
    await spendBudget(victim);
    const before = await throttleRowVersions(t, 'login_throttle', 'login_guess_budgets');

    for (let i = 0; i < 100; i++) await attempt(victim, `guess ${i}`, { ip: `192.0.2.${i}` }).expect(429);

    expect(await throttleRowVersions(t, 'login_throttle', 'login_guess_budgets')).toEqual(before);
  });
});

describe('attack suite: client budgets', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({ TRUST_PROXY: 'loopback', RATE_LIMIT_IP_PER_MINUTE: '60' });
  });
  afterAll(() => t.close());

  const register = (ip: string) => t.http().post('/auth/register').set('x-forwarded-for', ip).send({ email: 'x', password: 'x' });

  it('IPv6 addresses of one /64 share one budget; another /64 has its own', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 70; i++) statuses.push((await register(`2001:db8:1:2::${i.toString(16)}`)).status);

    expect(statuses.slice(0, 60).every((status) => status === 400)).toBe(true);
    expect(statuses.slice(60).every((status) => status === 429)).toBe(true);
    expect((await register('2001:db8:1:3::1')).status).toBe(400);
  });

  it('IPv4 budgets are per address, and an IPv4-mapped IPv6 address is the IPv4 address', async () => {
    for (let i = 0; i < 60; i++) await register('192.0.2.10').expect(400);
    await register('::ffff:192.0.2.10').expect(429);
    await register('192.0.2.11').expect(400);
  });

  it('a flood of junk refreshes past the budget is refused without a database write', async () => {
    const junk = () => t.http().post('/auth/refresh').set('x-forwarded-for', '198.51.100.99').send({ refresh_token: 'junk' });
    for (let i = 0; i < 60; i++) await junk().expect(401);
    await junk().expect(429);
    const before = await throttleRowVersions(t, 'rate_limit_counters');

    for (let i = 0; i < 200; i++) await junk().expect(429);

    expect(await throttleRowVersions(t, 'rate_limit_counters')).toEqual(before);
  });
});
