import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditRetention } from '../../src/audit/audit-retention.js';
import { Clock } from '../../src/common/clock.js';
import { MfaChallengeRetention } from '../../src/mfa/mfa-challenge-retention.js';
import { openReplay } from '../../src/sessions/refresh-token-crypto.js';
import { SessionRetention } from '../../src/sessions/session-retention.js';
import { decodeJwt } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { totp } from '../support/totp.js';
import { createUser, enrollTotp, login, PASSWORD, type TokenPair } from '../support/users.js';

const DAY_MS = 86_400_000;
const GRACE_SECONDS = 10;
const SESSION_RETENTION_SECONDS = 3600;
const MFA_TOKEN_TTL_SECONDS = 300;

/** Spent replays, ended sessions and old audit events are deleted once of no use, by every replica safely. */
describe('retention', () => {
  let a: TestApp;
  let b: TestApp;
  let userId: string;

  beforeAll(async () => {
    await resetDatabase();
    const env = {
      REFRESH_REUSE_GRACE: String(GRACE_SECONDS),
      SESSION_RETENTION: String(SESSION_RETENTION_SECONDS),
      AUDIT_RETENTION: '86400',
      MFA_TOKEN_TTL: String(MFA_TOKEN_TTL_SECONDS),
    };
    a = await startTestApp(env);
    b = await startTestApp(env);
  });
  afterAll(() => Promise.all([a.close(), b.close()]));
  beforeEach(async () => {
    vi.restoreAllMocks();
    await a.dataSource.query('TRUNCATE users, audit_events CASCADE');
    userId = await createUser(a, 'ann@example.com');
  });

  const refresh = async (pair: TokenPair): Promise<TokenPair> =>
    (await a.http().post('/auth/refresh').send({ refresh_token: pair.refresh_token }).expect(200)).body as TokenPair;
  const sidOf = (pair: TokenPair) => decodeJwt(pair.access_token).payload.sid as string;
  const replaysOf = async (sid: string): Promise<Array<Buffer | null>> =>
    (
      (await a.dataSource.query('SELECT rotation_replay FROM refresh_tokens WHERE session_id = $1 ORDER BY issued_at', [sid])) as Array<{
        rotation_replay: Buffer | null;
      }>
    ).map((row) => row.rotation_replay);
  const moveClocksBy = (ms: number) => {
    for (const app of [a, b]) vi.spyOn(app.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + ms));
  };

  describe('sealed grace replays', () => {
    it('after the grace window none is left: a database dump and an old refresh token of the chain open nothing', async () => {
      const chain = [await login(a, 'ann@example.com')];
      for (let hop = 0; hop < 3; hop++) chain.push(await refresh(chain.at(-1)!));
      const sealedBefore = (await replaysOf(sidOf(chain[0]!)))[2]!;
      expect(openReplay<TokenPair>(chain[2]!.refresh_token, sealedBefore)?.refresh_token).toBe(chain[3]!.refresh_token);
      moveClocksBy((GRACE_SECONDS + 1) * 1000);

      await a.app.get(SessionRetention).run();

      expect(await replaysOf(sidOf(chain[0]!))).toEqual([null, null, null, null]);
    });
  });

  describe('sessions', () => {
    it('an ended session and its token chain are deleted SESSION_RETENTION after it ended; live sessions and the audit trail stay', async () => {
      const ended = await login(a, 'ann@example.com');
      const rotated = await refresh(ended);
      await a.http().post('/auth/logout').send({ refresh_token: rotated.refresh_token }).expect(204);
      const live = await login(a, 'ann@example.com');
      const auditBefore = await a.dataSource.query('SELECT count(*)::int AS n FROM audit_events');

      moveClocksBy((SESSION_RETENTION_SECONDS - 60) * 1000);
      expect((await a.app.get(SessionRetention).run()).sessionsDeleted).toBe(0);
      moveClocksBy((SESSION_RETENTION_SECONDS + 60) * 1000);
      await a.app.get(SessionRetention).run();

      const sessions = (await a.dataSource.query('SELECT id FROM sessions WHERE user_id = $1', [userId])) as Array<{ id: string }>;
      expect(sessions.map((session) => session.id)).toEqual([sidOf(live)]);
      expect(await a.dataSource.query('SELECT count(*)::int AS n FROM refresh_tokens WHERE session_id = $1', [sidOf(ended)])).toEqual([{ n: 0 }]);
      expect(await a.dataSource.query('SELECT count(*)::int AS n FROM audit_events')).toEqual(auditBefore);
    });

    it('an expired session is deleted SESSION_RETENTION after its absolute end', async () => {
      await login(a, 'ann@example.com');

      moveClocksBy(30 * DAY_MS + (SESSION_RETENTION_SECONDS + 60) * 1000);
      await a.app.get(SessionRetention).run();

      expect(await a.dataSource.query('SELECT count(*)::int AS n FROM sessions')).toEqual([{ n: 0 }]);
    });

    it('two replicas sweeping at once delete every ended session exactly once, without errors', async () => {
      await a.dataSource.query(
        `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at, revoked_reason)
         SELECT gen_random_uuid(), $1, now() - interval '40 days', now() - interval '40 days', now() - interval '10 days', now() - interval '35 days', 'logout'
         FROM generate_series(1, 1200)`,
        [userId],
      );

      const [fromA, fromB] = await Promise.all([a.app.get(SessionRetention).run(), b.app.get(SessionRetention).run()]);

      expect(fromA.sessionsDeleted + fromB.sessionsDeleted).toBe(1200);
      expect(await a.dataSource.query('SELECT count(*)::int AS n FROM sessions')).toEqual([{ n: 0 }]);
    });
  });

  describe('login challenges (mfa_token)', () => {
    it('a spent challenge is deleted by the next sweep, a pending one once it has expired', async () => {
      const confirmedAt = Date.now();
      const { secret } = await enrollTotp(a, (await login(a, 'ann@example.com')).access_token, confirmedAt);
      const firstStep = async () =>
        (await a.http().post('/auth/login').send({ email: 'ann@example.com', password: PASSWORD }).expect(403)).body.mfa_token as string;
      const spent = await firstStep();
      await firstStep();
      await a
        .http()
        .post('/auth/login/mfa')
        .send({ mfa_token: spent, code: totp(secret, confirmedAt, 1) })
        .expect(200);
      const challenges = async () =>
        ((await a.dataSource.query('SELECT used_at FROM mfa_challenges')) as Array<{ used_at: Date | null }>).map((row) => row.used_at);

      expect(await a.app.get(MfaChallengeRetention).run()).toBe(1);
      expect(await challenges()).toEqual([null]);
      moveClocksBy((MFA_TOKEN_TTL_SECONDS - 10) * 1000);
      expect(await a.app.get(MfaChallengeRetention).run()).toBe(0);
      moveClocksBy((MFA_TOKEN_TTL_SECONDS + 1) * 1000);
      expect(await a.app.get(MfaChallengeRetention).run()).toBe(1);
      expect(await challenges()).toEqual([]);
    });
  });

  describe('audit events', () => {
    const insertEvent = (age: string) =>
      a.dataSource.query(
        `INSERT INTO audit_events (id, occurred_at, type, user_id) VALUES (gen_random_uuid(), now() - $1::interval, 'login_failed', $2) RETURNING id`,
        [age, userId],
      ) as Promise<Array<{ id: string }>>;

    it('events older than AUDIT_RETENTION are deleted by the sweep, younger ones kept', async () => {
      const [old] = await insertEvent('2 days');
      const [recent] = await insertEvent('1 hour');

      const deleted = await a.app.get(AuditRetention).run();

      expect(deleted).toBeGreaterThanOrEqual(1);
      const left = ((await a.dataSource.query('SELECT id FROM audit_events')) as Array<{ id: string }>).map((row) => row.id);
      expect(left).toContain(recent!.id);
      expect(left).not.toContain(old!.id);
    });

    it.each([
      ['an update', `UPDATE audit_events SET type = 'tampered'`, ''],
      ['a delete that declares no retention', 'DELETE FROM audit_events', ''],
      ['a delete of events younger than the retention it declares', 'DELETE FROM audit_events', '1 day'],
    ])('the append-only guard still refuses %s', async (_name, statement, retention) => {
      await insertEvent('2 hours');
      const attempt = a.dataSource.transaction(async (manager) => {
        if (retention !== '') await manager.query(`SELECT set_config('auth.audit_retention', $1, true)`, [retention]);
        await manager.query(statement);
      });

      await expect(attempt).rejects.toThrow(/append-only/);
      expect(await a.dataSource.query('SELECT count(*)::int AS n FROM audit_events WHERE type = $1', ['login_failed'])).toEqual([{ n: 1 }]);
    });
  });
});
