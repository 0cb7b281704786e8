import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MailTokenRetention } from '../../src/account/mail-token-retention.js';
import { Clock } from '../../src/common/clock.js';
import { decodeJwt } from '../support/jwt.js';
import { linkIn, MailCatcher } from '../support/mail-catcher.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, PASSWORD, type TokenPair } from '../support/users.js';

const NEW_PASSWORD = 'a brand new passphrase';
const PUBLIC_URL = 'https://app.test/account/';
const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Account self-service and recovery through HTTP, with mail delivered over real SMTP to a
 * smtp-server on loopback and read back with mailparser. Runs on both database paths.
 */
describe('account self-service and recovery', () => {
  let t: TestApp;
  let catcher: MailCatcher;
  let counter = 0;
  const nextEmail = (name: string) => `${name}.${++counter}@example.com`;

  beforeAll(async () => {
    await resetDatabase();
    catcher = await MailCatcher.start();
    t = await startTestApp({ SMTP_URL: catcher.url, PUBLIC_URL, MAIL_FROM: 'Accounts <accounts@example.com>' });
  });
  afterAll(async () => {
    await t?.close();
    await catcher?.stop();
  });
  afterEach(() => vi.restoreAllMocks());

  const auditOf = async (userId: string | null, type: string) =>
    (await t.dataSource.query('SELECT details, session_id FROM audit_events WHERE user_id IS NOT DISTINCT FROM $1 AND type = $2', [
      userId,
      type,
    ])) as Array<{
      details: Record<string, unknown>;
    }>;
  const me = (token: string) =>
    t
      .http()
      .get('/auth/me')
      .set(...bearer(token));
  const advanceClock = (seconds: number) => {
    const clock = t.app.get(Clock);
    const real = clock.now.bind(clock);
    vi.spyOn(clock, 'now').mockImplementation(() => new Date(real().getTime() + seconds * 1000));
  };

  describe('email verification', () => {
    it('registration mails a link under PUBLIC_URL whose token verifies the address once; /auth/me, new tokens and introspection say so', async () => {
      const email = nextEmail('verify');
      const id = await createUser(t, email);
      const mail = await catcher.nth(email, 1);
      expect(mail.from).toBe('accounts@example.com');
      expect(mail.subject).toBe('Verify your email address');
      expect(mail.messageId).toMatch(/^<[0-9a-f-]{36}@app\.test>$/);
      expect(mail.html).toContain('verify-email?token=');
      const { link, token } = linkIn(mail);
      expect(`${link.origin}${link.pathname}`).toBe(`${PUBLIC_URL}verify-email`);

      // Only the SHA-256 is stored; the sent mail's body (the link) is gone from the outbox.
      expect(await t.dataSource.query('SELECT 1 FROM mail_tokens WHERE token_hash = $1', [sha256(token)])).toHaveLength(1);
      const [outbox] = (await t.dataSource.query('SELECT text_body, sent_at FROM mail_outbox WHERE user_id = $1', [id])) as Array<{
        text_body: string;
        sent_at: Date;
      }>;
      expect(outbox).toMatchObject({ text_body: '', sent_at: expect.any(Date) });

      const before = await login(t, email);
      expect(decodeJwt(before.access_token).payload.email_verified).toBe(false);
      expect((await me(before.access_token).expect(200)).body).toEqual({ id, email, roles: ['user'], email_verified: false });

      await t.http().post('/auth/email/verify').send({ token }).expect(204);
      // A token issued before says false; /auth/me and introspection answer from the database then.
      expect((await me(before.access_token).expect(200)).body.email_verified).toBe(true);
      const after = await login(t, email);
      expect(decodeJwt(after.access_token).payload.email_verified).toBe(true);
      const admin = await login(t, await adminEmail());
      const introspection = await t
        .http()
        .post('/auth/introspect')
        .set(...bearer(admin.access_token))
        .send({ token: before.access_token })
        .expect(200);
      expect(introspection.body).toMatchObject({ active: true, email_verified: true });

      const again = await t.http().post('/auth/email/verify').send({ token }).expect(400);
      expect(again.body).toMatchObject({ statusCode: 400, error: 'invalid_grant' });
      expect(await auditOf(id, 'email_verified')).toHaveLength(1);
      expect((await auditOf(id, 'email_verification_failed')).map((row) => row.details.reason)).toEqual(['used']);
    });

    let admin: string | undefined;
    async function adminEmail(): Promise<string> {
      admin ??= await (async () => {
        const email = nextEmail('admin');
        await createUser(t, email, ['user', 'admin']);
        return email;
      })();
      return admin;
    }

    it('refuses unknown, malformed and expired tokens with 400 invalid_grant, a missing one with invalid_request, and audits each', async () => {
      const email = nextEmail('expiry');
      const id = await createUser(t, email);
      const { token } = linkIn(await catcher.nth(email, 1));
      for (const bad of ['A'.repeat(43), 'not a token', token.slice(0, 42)]) {
        const res = await t.http().post('/auth/email/verify').send({ token: bad }).expect(400);
        expect(res.body).toEqual({ statusCode: 400, error: 'invalid_grant', message: expect.any(String) });
      }
      expect((await t.http().post('/auth/email/verify').send({}).expect(400)).body.error).toBe('invalid_request');
      expect((await t.http().post('/auth/email/verify').send({ token, extra: 1 }).expect(400)).body.error).toBe('invalid_request');

      advanceClock(86400 + 1);
      expect((await t.http().post('/auth/email/verify').send({ token }).expect(400)).body.error).toBe('invalid_grant');
      vi.restoreAllMocks();
      expect((await auditOf(id, 'email_verification_failed')).map((row) => row.details.reason)).toEqual(['expired']);
      expect((await auditOf(null, 'email_verification_failed')).length).toBeGreaterThanOrEqual(3);
      const [row] = (await t.dataSource.query('SELECT email_verified FROM users WHERE id = $1', [id])) as Array<{ email_verified: boolean }>;
      expect(row!.email_verified).toBe(false);
    });

    it('resends on request (202), nothing once verified, and answers 429 with Retry-After once the account had its mails for the hour', async () => {
      const email = nextEmail('resend');
      await createUser(t, email);
      await catcher.nth(email, 1);
      const tokens = await login(t, email);
      await t.http().post('/auth/email/verify/resend').expect(401);
      for (let mail = 2; mail <= 5; mail++) {
        await t
          .http()
          .post('/auth/email/verify/resend')
          .set(...bearer(tokens.access_token))
          .expect(202);
        await catcher.nth(email, mail);
      }
      const refused = await t
        .http()
        .post('/auth/email/verify/resend')
        .set(...bearer(tokens.access_token))
        .expect(429);
      expect(refused.body.error).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3000);
      // Every link of the five still works (resending does not void the earlier ones); the first one verifies.
      await t
        .http()
        .post('/auth/email/verify')
        .send({ token: linkIn(catcher.to(email)[0]!).token })
        .expect(204);

      const verified = nextEmail('verified');
      await createUser(t, verified);
      await t
        .http()
        .post('/auth/email/verify')
        .send({ token: linkIn(await catcher.nth(verified, 1)).token })
        .expect(204);
      const own = await login(t, verified);
      await t
        .http()
        .post('/auth/email/verify/resend')
        .set(...bearer(own.access_token))
        .expect(202);
      await new Promise((r) => setTimeout(r, 1500));
      expect(catcher.to(verified)).toHaveLength(1);
    });
  });

  describe('password reset by mail', () => {
    async function forgot(email: string): Promise<string> {
      await catcher.nth(email, 1); // the registration mail
      const before = catcher.to(email).length;
      await t.http().post('/auth/password/forgot').send({ email }).expect(202);
      const mail = await catcher.nth(email, before + 1);
      expect(mail.subject).toBe('Reset your password');
      const { link, token } = linkIn(mail);
      expect(`${link.origin}${link.pathname}`).toBe(`${PUBLIC_URL}reset-password`);
      return token;
    }

    it('replaces the password, ends every session with its access tokens, verifies the address, and the token works once', async () => {
      const email = nextEmail('reset');
      const id = await createUser(t, email);
      const [one, two] = [await login(t, email), await login(t, email)];
      const token = await forgot(email);

      await t.http().post('/auth/password/reset').send({ token, new_password: NEW_PASSWORD }).expect(204);
      for (const pair of [one, two]) {
        await me(pair.access_token).expect(401);
        await t.http().post('/auth/refresh').send({ refresh_token: pair.refresh_token }).expect(401);
      }
      await t.http().post('/auth/login').send({ email, password: PASSWORD }).expect(401);
      const fresh = await login(t, email, NEW_PASSWORD);
      expect((await me(fresh.access_token).expect(200)).body.email_verified).toBe(true);

      const reused = await t.http().post('/auth/password/reset').send({ token, new_password: 'yet another passphrase' }).expect(400);
      expect(reused.body.error).toBe('invalid_grant');
      await login(t, email, NEW_PASSWORD);
      expect(await auditOf(id, 'password_reset')).toEqual([expect.objectContaining({ details: { sessions: 2 } })]);
      expect((await auditOf(id, 'password_reset_failed')).map((row) => row.details.reason)).toEqual(['used']);
    });

    it('voids an older link when a newer one is sent, refuses an expired one, and writes nothing on a policy violation', async () => {
      const email = nextEmail('reset-rules');
      const id = await createUser(t, email);
      const older = await forgot(email);
      const newer = await forgot(email);
      expect((await t.http().post('/auth/password/reset').send({ token: older, new_password: NEW_PASSWORD }).expect(400)).body.error).toBe(
        'invalid_grant',
      );

      for (const weak of ['short', 'password123']) {
        const res = await t.http().post('/auth/password/reset').send({ token: newer, new_password: weak }).expect(400);
        expect(res.body.error).toBe('invalid_request');
      }
      await login(t, email);

      advanceClock(1800 + 1);
      expect((await t.http().post('/auth/password/reset').send({ token: newer, new_password: NEW_PASSWORD }).expect(400)).body.error).toBe(
        'invalid_grant',
      );
      vi.restoreAllMocks();
      await login(t, email);
      expect((await auditOf(id, 'password_reset_failed')).map((row) => row.details.reason).sort()).toEqual(['expired', 'superseded']);

      // Expired tokens are deleted by the sweep.
      advanceClock(1800 + 1);
      await t.app.get(MailTokenRetention).run();
      vi.restoreAllMocks();
      expect(await t.dataSource.query(`SELECT 1 FROM mail_tokens WHERE user_id = $1 AND purpose = 'password_reset'`, [id])).toHaveLength(0);
    });

    it('answers unknown, disabled and real addresses with the same status, body and headers, and mails only the real one', async () => {
      const real = nextEmail('real');
      const disabled = nextEmail('disabled');
      await createUser(t, real);
      const disabledId = await createUser(t, disabled);
      await t.dataSource.query('UPDATE users SET disabled = true WHERE id = $1', [disabledId]);
      const unknown = nextEmail('nobody');
      const rounds = 8;
      const timings: Record<string, number[]> = { unknown: [], disabled: [], real: [] };
      const shapes = new Set<string>();
      for (let round = 0; round < rounds; round++) {
        for (const [kind, email] of [
          ['unknown', unknown],
          ['disabled', disabled],
          ['real', real],
        ] as const) {
          const started = performance.now();
          const res = await t.http().post('/auth/password/forgot').send({ email });
          timings[kind]!.push(performance.now() - started);
          const { date: _date, 'x-request-id': _id, ...headers } = res.headers;
          shapes.add(JSON.stringify({ status: res.status, body: res.body, text: res.text, headers }));
        }
      }
      expect(shapes.size).toBe(1);
      expect(JSON.parse([...shapes][0]!)).toMatchObject({ status: 202, text: '' });
      const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!.toFixed(1);
      console.log(
        `[forgot] median ms over ${rounds}: unknown ${median(timings.unknown!)}, disabled ${median(timings.disabled!)}, real ${median(timings.real!)}`,
      );

      await catcher.nth(real, 5); // the registration mail and four reset mails: the account's budget for the hour
      await new Promise((r) => setTimeout(r, 1500));
      expect(catcher.to(real)).toHaveLength(5);
      expect(catcher.to(disabled)).toHaveLength(1); // its registration mail only
      expect(catcher.to(unknown)).toHaveLength(0);
      expect((await t.http().post('/auth/password/forgot').send({ email: 'not an address' }).expect(400)).body.error).toBe('invalid_request');
    });
  });

  describe('password change', () => {
    it('ends every other session (refresh and access tokens) while the calling session goes on', async () => {
      const email = nextEmail('change');
      const id = await createUser(t, email);
      const [caller, other] = [await login(t, email), await login(t, email)];
      await t
        .http()
        .post('/auth/password')
        .set(...bearer(caller.access_token))
        .send({ current_password: PASSWORD, new_password: NEW_PASSWORD })
        .expect(204);

      await me(caller.access_token).expect(200);
      const refreshed = (await t.http().post('/auth/refresh').send({ refresh_token: caller.refresh_token }).expect(200)).body as TokenPair;
      await me(refreshed.access_token).expect(200);
      await me(other.access_token).expect(401);
      await t.http().post('/auth/refresh').send({ refresh_token: other.refresh_token }).expect(401);
      await t.http().post('/auth/login').send({ email, password: PASSWORD }).expect(401);
      await login(t, email, NEW_PASSWORD);
      expect(await auditOf(id, 'password_changed')).toEqual([expect.objectContaining({ details: { sessions: 1 } })]);
    });

    it('refuses a wrong current password (401 invalid_credentials, counted toward the login backoff) and a weak new one, changing nothing', async () => {
      const throttled = await startTestApp({ SMTP_URL: catcher.url, LOGIN_FREE_FAILURES: '2' });
      try {
        const email = nextEmail('wrong-current');
        await createUser(throttled, email);
        const tokens = await login(throttled, email);
        const change = (current: string, next = NEW_PASSWORD) =>
          throttled
            .http()
            .post('/auth/password')
            .set(...bearer(tokens.access_token))
            .send({ current_password: current, new_password: next });
        expect((await change(PASSWORD, 'short')).body).toMatchObject({ statusCode: 400, error: 'invalid_request' });
        expect((await change(PASSWORD, 'password123')).status).toBe(400);
        expect((await change('not my password')).body).toMatchObject({ statusCode: 401, error: 'invalid_credentials' });
        expect((await change('not my password either')).status).toBe(401);
        expect((await change('still not my password')).status).toBe(401);
        // Two free failures, then a third that starts the backoff: it applies to this client's next attempt, on login too.
        const waiting = await change(PASSWORD);
        expect(waiting.status).toBe(429);
        expect(waiting.headers['retry-after']).toBeDefined();
        expect((await throttled.http().post('/auth/login').send({ email, password: PASSWORD })).status).toBe(429);
        await throttled
          .http()
          .get('/auth/me')
          .set(...bearer(tokens.access_token))
          .expect(200);
        await throttled.http().post('/auth/password').send({ current_password: PASSWORD, new_password: NEW_PASSWORD }).expect(401);
      } finally {
        await throttled.close();
      }
    });
  });

  describe('own sessions', () => {
    it("lists the live sessions with the current one marked, and ends one of them; another user's is a 404", async () => {
      const email = nextEmail('sessions');
      await createUser(t, email);
      const first = await login(t, email);
      const second = await login(t, email);
      const list = await t
        .http()
        .get('/auth/sessions')
        .set(...bearer(second.access_token))
        .set('user-agent', 'test-agent')
        .expect(200);
      const sidOf = (pair: TokenPair) => decodeJwt(pair.access_token).payload.sid as string;
      expect(list.body.items).toHaveLength(2);
      expect(list.body.items).toContainEqual({
        id: sidOf(second),
        created_at: expect.any(String),
        last_used_at: expect.any(String),
        expires_at: expect.any(String),
        ip: '127.0.0.1',
        user_agent: null,
        current: true,
      });
      expect(list.body.items.find((item: { id: string }) => item.id === sidOf(first)).current).toBe(false);

      const stranger = nextEmail('stranger');
      await createUser(t, stranger);
      const theirs = await login(t, stranger);
      for (const sid of [sidOf(theirs), '00000000-0000-4000-8000-000000000000']) {
        const res = await t
          .http()
          .delete(`/auth/sessions/${sid}`)
          .set(...bearer(second.access_token))
          .expect(404);
        expect(res.body).toMatchObject({ statusCode: 404, error: 'not_found' });
      }
      await me(theirs.access_token).expect(200);
      expect(
        (
          await t
            .http()
            .delete('/auth/sessions/nope')
            .set(...bearer(second.access_token))
            .expect(400)
        ).body.error,
      ).toBe('invalid_request');

      await t
        .http()
        .delete(`/auth/sessions/${sidOf(first)}`)
        .set(...bearer(second.access_token))
        .expect(204);
      await me(first.access_token).expect(401);
      await t.http().post('/auth/refresh').send({ refresh_token: first.refresh_token }).expect(401);
      expect(
        (
          await t
            .http()
            .get('/auth/sessions')
            .set(...bearer(second.access_token))
            .expect(200)
        ).body.items,
      ).toHaveLength(1);
      // Its own session too: signing out this device.
      await t
        .http()
        .delete(`/auth/sessions/${sidOf(second)}`)
        .set(...bearer(second.access_token))
        .expect(204);
      await me(second.access_token).expect(401);
      await t.http().get('/auth/sessions').expect(401);
    });
  });

  describe('account deletion', () => {
    it('needs the password, then deletes the account: sessions revoked, email free again, audit events kept without the email', async () => {
      const email = nextEmail('delete');
      const id = await createUser(t, email);
      const tokens = await login(t, email);
      const wrong = await t
        .http()
        .delete('/auth/me')
        .set(...bearer(tokens.access_token))
        .send({ password: 'not the password' })
        .expect(401);
      expect(wrong.body.error).toBe('invalid_credentials');
      await me(tokens.access_token).expect(200);
      expect(
        (
          await t
            .http()
            .delete('/auth/me')
            .set(...bearer(tokens.access_token))
            .send({})
            .expect(400)
        ).body.error,
      ).toBe('invalid_request');

      await t
        .http()
        .delete('/auth/me')
        .set(...bearer(tokens.access_token))
        .send({ password: PASSWORD })
        .expect(204);
      await me(tokens.access_token).expect(401);
      await t.http().post('/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(401);
      await t.http().post('/auth/login').send({ email, password: PASSWORD }).expect(401);
      expect(await t.dataSource.query('SELECT 1 FROM users WHERE id = $1', [id])).toHaveLength(0);
      expect(
        await t.dataSource.query('SELECT 1 FROM mail_outbox WHERE user_id = $1 UNION ALL SELECT 1 FROM mail_tokens WHERE user_id = $1', [id]),
      ).toHaveLength(0);

      const events = (await t.dataSource.query('SELECT type, details::text AS details, ip, user_agent FROM audit_events WHERE user_id = $1', [
        id,
      ])) as Array<{ type: string }>;
      expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['login_succeeded', 'account_deletion_failed', 'account_deleted']));
      expect(JSON.stringify(events)).not.toContain(email);
      const again = await t.http().post('/auth/register').send({ email, password: PASSWORD }).expect(201);
      expect(again.body.id).not.toBe(id);
    });

    it('refuses the last active admin (409 conflict)', async () => {
      await t.dataSource.query(`UPDATE users SET roles = '{user}'`);
      const email = nextEmail('last-admin');
      await createUser(t, email, ['user', 'admin']);
      const tokens = await login(t, email);
      expect(
        (
          await t
            .http()
            .delete('/auth/me')
            .set(...bearer(tokens.access_token))
            .send({ password: PASSWORD })
            .expect(409)
        ).body.error,
      ).toBe('conflict');
      await me(tokens.access_token).expect(200);
    });
  });

  describe('with REQUIRE_VERIFIED_EMAIL', () => {
    it('refuses login with 403 email_not_verified only after the right password, mails a new link, and lets in once verified', async () => {
      const strict = await startTestApp({ SMTP_URL: catcher.url, REQUIRE_VERIFIED_EMAIL: 'true' });
      try {
        const email = nextEmail('strict');
        await createUser(strict, email);
        await catcher.nth(email, 1);
        const wrong = await strict.http().post('/auth/login').send({ email, password: 'wrong password' }).expect(401);
        const unknown = await strict
          .http()
          .post('/auth/login')
          .send({ email: nextEmail('ghost'), password: 'wrong password' })
          .expect(401);
        expect(wrong.body).toEqual(unknown.body);
        const refused = await strict.http().post('/auth/login').send({ email, password: PASSWORD }).expect(403);
        expect(refused.body).toEqual({ statusCode: 403, error: 'email_not_verified', message: expect.any(String) });
        expect(refused.body.access_token).toBeUndefined();
        const { token } = linkIn(await catcher.nth(email, 2));
        await strict.http().post('/auth/email/verify').send({ token }).expect(204);
        await login(strict, email);
      } finally {
        await strict.close();
      }
    });
  });
});
