import { expect } from 'vitest';
import type { TestApp } from './test-app.js';
import { totp } from './totp.js';

export const PASSWORD = 'correct horse battery staple';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  refresh_expires_in: number;
}

/** Registers a user through the API; roles beyond the default are granted in the database. */
export async function createUser(t: TestApp, email: string, roles: string[] = ['user']): Promise<string> {
  const res = await t.http().post('/auth/register').send({ email, password: PASSWORD });
  expect(res.status).toBe(201);
  if (roles.join() !== 'user') await t.dataSource.query('UPDATE users SET roles = $1 WHERE id = $2', [roles, res.body.id]);
  return res.body.id as string;
}

export async function login(t: TestApp, email: string, password = PASSWORD): Promise<TokenPair> {
  const res = await t.http().post('/auth/login').send({ email, password });
  expect(res.status).toBe(200);
  return res.body as TokenPair;
}

export const bearer = (token: string): [string, string] => ['authorization', `Bearer ${token}`];

/** Starts TOTP for the token's user and confirms it with the code of the step at `atMs` (the app's clock). */
export async function enrollTotp(t: TestApp, accessToken: string, atMs: number): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await t
    .http()
    .post('/auth/mfa/totp')
    .set(...bearer(accessToken));
  expect(started.status).toBe(200);
  const secret = started.body.secret as string;
  const confirmed = await t
    .http()
    .post('/auth/mfa/totp/confirm')
    .set(...bearer(accessToken))
    .send({ code: totp(secret, atMs) });
  expect(confirmed.status).toBe(200);
  return { secret, recoveryCodes: confirmed.body.recovery_codes as string[] };
}
