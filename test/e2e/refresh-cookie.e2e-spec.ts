import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { createUser, PASSWORD } from '../support/users.js';

describe('cookie mode (REFRESH_TOKEN_COOKIE=true)', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({ REFRESH_TOKEN_COOKIE: 'true' });
    await createUser(t, 'cookie@example.com');
  });
  afterAll(() => t.close());

  const cookieOf = (setCookie: string[] | string | undefined): string => {
    const header = [setCookie ?? []].flat().find((value) => value.startsWith('refresh_token='));
    expect(header).toBeDefined();
    return header!;
  };

  it('sets the refresh token as an HttpOnly, Secure, SameSite=Strict cookie scoped to /auth, and accepts it back', async () => {
    const login = await t.http().post('/auth/login').send({ email: 'cookie@example.com', password: PASSWORD }).expect(200);
    const cookie = cookieOf(login.headers['set-cookie']);
    expect(cookie).toContain(`refresh_token=${login.body.refresh_token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/auth(;|$)/);

    const refreshed = await t
      .http()
      .post('/auth/refresh')
      .set('cookie', `refresh_token=${login.body.refresh_token}`)
      .set('origin', 'http://auth.test')
      .send({});

    expect(refreshed.status).toBe(200);
    expect(cookieOf(refreshed.headers['set-cookie'])).toContain(`refresh_token=${refreshed.body.refresh_token}`);

    const logout = await t
      .http()
      .post('/auth/logout')
      .set('cookie', `refresh_token=${refreshed.body.refresh_token}`)
      .set('origin', 'http://auth.test')
      .send({});
    expect(logout.status).toBe(204);
    expect(cookieOf(logout.headers['set-cookie'])).toMatch(/refresh_token=;/);
    await t.http().post('/auth/refresh').send({ refresh_token: refreshed.body.refresh_token }).expect(401);
  });

  it.each([
    ['a foreign Origin', 'https://evil.example'],
    ['no Origin', undefined],
  ])('refuses the cookie from %s with 403 and spends nothing', async (_name, origin) => {
    const login = await t.http().post('/auth/login').send({ email: 'cookie@example.com', password: PASSWORD }).expect(200);
    const request = t.http().post('/auth/refresh').set('cookie', `refresh_token=${login.body.refresh_token}`);
    if (origin !== undefined) request.set('origin', origin);

    const res = await request.send({});

    expect(res.status).toBe(403);
    expect(res.body.error).toBe('origin_not_allowed');
    await t.http().post('/auth/refresh').send({ refresh_token: login.body.refresh_token }).expect(200);
  });
});
