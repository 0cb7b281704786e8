import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, type TokenPair } from '../support/users.js';

/** Attacks on refresh tokens: none may mint a token, and none may hurt a victim's session. */
describe('attack suite: refresh abuse', () => {
  let t: TestApp;
  let victim: TokenPair;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    await createUser(t, 'victim@example.com');
    await createUser(t, 'attacker@example.com');
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    vi.restoreAllMocks();
    victim = await login(t, 'victim@example.com');
  });

  const refresh = (token: unknown) => t.http().post('/auth/refresh').send({ refresh_token: token });
  const victimStillWorks = async () => {
    victim = (await refresh(victim.refresh_token).expect(200)).body as TokenPair;
  };

  it.each([
    ['random 43 characters', 'x'.repeat(43)],
    ['the victim token with one character changed', 'FLIP'],
    ['the victim token truncated', 'TRUNCATE'],
    ['the victim token with trailing whitespace', 'PAD'],
    ['SQL in the token', "' OR 1=1 --"],
  ])('garbage (%s) is refused and leaves the victim session alone', async (_name, kind) => {
    const token = victim.refresh_token;
    const garbage =
      kind === 'FLIP'
        ? `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
        : kind === 'TRUNCATE'
          ? token.slice(0, 30)
          : kind === 'PAD'
            ? `${token} `
            : kind;

    const res = await refresh(garbage);

    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_grant');
    await victimStillWorks();
  });

  it.each([
    ['a number', 12345],
    ['an object', { $ne: null }],
    ['an array', ['a']],
  ])('type confusion: refresh_token as %s is a 400', async (_name, value) => {
    const res = await refresh(value);
    expect(res.status).toBe(400);
    await victimStillWorks();
  });

  it("kind swap: the victim's access token presented as a refresh token", async () => {
    await refresh(victim.access_token).expect(401);
    await victimStillWorks();
  });

  it('kind swap: a refresh token presented as a Bearer access token', async () => {
    await t
      .http()
      .get('/auth/me')
      .set(...bearer(victim.refresh_token))
      .expect(401);
  });

  it("cross-user: the attacker's own refresh token yields only the attacker's identity", async () => {
    const attacker = await login(t, 'attacker@example.com');
    const res = await refresh(attacker.refresh_token).expect(200);
    const me = await t
      .http()
      .get('/auth/me')
      .set(...bearer(res.body.access_token))
      .expect(200);
    expect(me.body.email).toBe('attacker@example.com');
  });

  it("logout with the attacker's token cannot end the victim's session", async () => {
    const attacker = await login(t, 'attacker@example.com');
    await t.http().post('/auth/logout').send({ refresh_token: attacker.refresh_token }).expect(204);
    await victimStillWorks();
  });

  it('a refresh token in the query string is ignored', async () => {
    const res = await t.http().post(`/auth/refresh?refresh_token=${victim.refresh_token}`).send({});
    expect(res.status).toBe(400);
  });

  it('an expired refresh token (idle lifetime passed) cannot be revived', async () => {
    vi.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 15 * 86400 * 1000));
    await refresh(victim.refresh_token).expect(401);
  });

  it('a token of an ended session cannot be refreshed', async () => {
    await t.http().post('/auth/logout').send({ refresh_token: victim.refresh_token }).expect(204);
    await refresh(victim.refresh_token).expect(401);
  });
});
