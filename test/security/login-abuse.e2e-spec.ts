import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PasswordHasher } from '../../src/users/password-hasher.service.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { createUser, PASSWORD } from '../support/users.js';

/** Attacks on login and registration; the throttle's own scenarios are in login-lockout.e2e-spec.ts. */
describe('attack suite: login abuse', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({ LOGIN_FREE_FAILURES: '5' });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.dataSource.query('TRUNCATE users, login_throttle, login_guess_budgets, rate_limit_counters CASCADE');
    await createUser(t, 'victim@example.com');
  });
  afterEach(() => vi.restoreAllMocks());

  const attempt = (email: unknown, password: unknown) => t.http().post('/auth/login').send({ email, password });
  const userCount = async () => (await t.dataSource.query('SELECT count(*)::int AS n FROM users'))[0].n as number;

  it('enumeration by body: unknown email and wrong password answer byte for byte the same', async () => {
    const unknown = await attempt('nobody@example.com', 'some password');
    const wrong = await attempt('victim@example.com', 'some password');
    expect(unknown.status).toBe(401);
    expect(unknown.text).toBe(wrong.text);
    expect(Object.keys(unknown.headers).sort()).toEqual(Object.keys(wrong.headers).sort());
  });

  it('enumeration by timing: an unknown email still costs an argon2 verification', async () => {
    const verify = vi.spyOn(t.app.get(PasswordHasher), 'verify');
    await attempt('nobody@example.com', 'some password').expect(401);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('credential stuffing from one IP: the per-IP budget answers 429', async () => {
    const limited = await startTestApp({ RATE_LIMIT_IP_PER_MINUTE: '10' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++)
        statuses.push(
          (
            await limited
              .http()
              .post('/auth/login')
              .send({ email: `user${i}@example.com`, password: 'x' })
          ).status,
        );
      expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
      expect(statuses.slice(10)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('X-Forwarded-For spoofing: without TRUST_PROXY the socket address is the client, so a forged header buys no budget', async () => {
    const limited = await startTestApp({ RATE_LIMIT_IP_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.http().post('/auth/register').set('x-forwarded-for', `10.0.0.${i}`).send({ email: 'x', password: 'x' });
        statuses.push(res.status);
      }
      expect(statuses.slice(3)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('X-Forwarded-For is believed from a trusted proxy (TRUST_PROXY=loopback): each client has its own budget', async () => {
    const proxied = await startTestApp({ RATE_LIMIT_IP_PER_MINUTE: '3', TRUST_PROXY: 'loopback' });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await proxied.http().post('/auth/register').set('x-forwarded-for', `203.0.113.${i}`).send({ email: 'x', password: 'x' });
        expect(res.status).toBe(400);
      }
    } finally {
      await proxied.close();
    }
  });

  it('an over-long password is refused before any hashing', async () => {
    const verify = vi.spyOn(t.app.get(PasswordHasher), 'verify');
    const hash = vi.spyOn(t.app.get(PasswordHasher), 'hash');

    await attempt('victim@example.com', 'a'.repeat(1025)).expect(400);
    await t
      .http()
      .post('/auth/register')
      .send({ email: 'new@example.com', password: 'a'.repeat(1025) })
      .expect(400);

    expect(verify).not.toHaveBeenCalled();
    expect(hash).not.toHaveBeenCalled();
  });

  it('a megabyte password is refused unread with 413', async () => {
    await attempt('victim@example.com', 'a'.repeat(1024 * 1024)).expect(413);
  });

  it('a Unicode look-alike email does not log into the ASCII account', async () => {
    await attempt('vict\u0456m@example.com', PASSWORD).expect(401);
  });

  it('case and whitespace variants reach the same account (one canonical form)', async () => {
    await attempt('  VICTIM@Example.com ', PASSWORD).expect(200);
  });

  it.each([
    ['SQL in the email', "victim@example.com' OR '1'='1", PASSWORD],
    ['SQL in the password', 'victim@example.com', "' OR '1'='1' --"],
    ['SQL comment in the email', "victim@example.com'--", 'anything'],
  ])('%s is just a failed login', async (_name, email, password) => {
    await attempt(email, password).expect(401);
  });

  it.each([
    ['operator object as email', { $gt: '' }, PASSWORD],
    ['operator object as password', 'victim@example.com', { $ne: null }],
    ['array as email', ['victim@example.com'], PASSWORD],
    ['null password', 'victim@example.com', null],
    ['boolean password', 'victim@example.com', true],
  ])('type confusion: %s is a 400', async (_name, email, password) => {
    const res = await attempt(email, password);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it.each([
    ['roles', { roles: ['admin'] }],
    ['id', { id: '00000000-0000-0000-0000-000000000000' }],
    ['disabled', { disabled: false }],
    ['passwordHash', { passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y' }],
    ['__proto__', JSON.parse('{"__proto__": {"roles": ["admin"]}}') as object],
  ])('mass assignment: register with %s is refused and nothing is written', async (_name, extra) => {
    const res = await t
      .http()
      .post('/auth/register')
      .send({ email: 'mass@example.com', password: PASSWORD, ...extra });
    expect(res.status).toBe(400);
    expect(await userCount()).toBe(1);
  });

  it('a common password is refused at registration', async () => {
    const res = await t.http().post('/auth/register').send({ email: 'common@example.com', password: 'Password1' });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/common/);
  });

  it('a hash made with outdated parameters is upgraded at the next successful login', async () => {
    const weak = await startTestApp({ ARGON2_MEMORY_COST_KIB: '19456', ARGON2_TIME_COST: '3' });
    try {
      await weak.http().post('/auth/login').send({ email: 'victim@example.com', password: PASSWORD }).expect(200);
      const [{ password_hash }] = await t.dataSource.query(`SELECT password_hash FROM users WHERE email = 'victim@example.com'`);
      expect(password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=3,p=1\$/);
    } finally {
      await weak.close();
    }
  });
});
