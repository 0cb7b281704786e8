import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import type { ClientContext } from '../common/client-context.js';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { KeysService } from '../keys/keys.service.js';
import { Revocations } from '../sessions/revocations.js';
import { LoginThrottle, type LoginAttempt } from '../throttle/login-throttle.service.js';
import { base32Of, hashRecoveryCode, matchingStep, newRecoveryCodes, newTotpSecret, otpauthUri, TOTP_CODE_PATTERN } from './totp.js';
import { totpSecretContext } from './totp-secrets.js';

export interface TotpEnrollment {
  readonly secret: string;
  readonly otpauthUri: string;
}

/** A login's first step, as its mfa_token's row keeps it. */
export interface PendingChallenge {
  readonly id: string;
  readonly userId: string;
  readonly passwordHash: string;
  /** The login throttle's attempt of the first step, returned when the second step succeeds. */
  readonly firstAttempt: LoginAttempt;
}

export type SecondFactor = 'totp' | 'recovery_code';

const MFA_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const hashToken = (token: string) => createHash('sha256').update(token).digest();

/** Rows of an UPDATE or DELETE ... RETURNING through TypeORM's Postgres drivers: [rows, count]. */
const returned = (result: unknown): unknown[] => (Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as unknown[]) : []);

/**
 * The second factor (issue 19): TOTP enrollment and removal, recovery codes, and the mfa_token of
 * a login's first step. Every code is checked by a conditional UPDATE (the time step raised, the
 * recovery code spent) in the transaction that uses it, so each is accepted once across replicas.
 */
@Injectable()
export class MfaService implements OnApplicationBootstrap {
  private readonly logger = new Logger(MfaService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keys: KeysService,
    private readonly revocations: Revocations,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Says at start when second factors are sealed under a KEK that KEYS_KEK lacks (an old KEK removed
   * before `keys:rewrap` ran): those users could not finish a login. Logged rather than refused, so
   * that an admin can still reach the service to reset them.
   */
  async onApplicationBootstrap(): Promise<void> {
    let sealedUnder: Array<{ kekId: string; n: number }>;
    try {
      sealedUnder = (await this.dataSource.query(
        'SELECT kek_id AS "kekId", count(*)::int AS n FROM user_totp GROUP BY kek_id',
      )) as typeof sealedUnder;
    } catch (error) {
      // A check, not a condition of starting: the database may be briefly away.
      this.logger.warn(`Could not check the KEKs of the TOTP secrets: ${(error as Error).message}`);
      return;
    }
    for (const { kekId, n } of sealedUnder) {
      if (this.keys.holdsKek(kekId)) continue;
      this.logger.error(
        `${n} TOTP secret(s) are encrypted under KEK ${kekId}, which KEYS_KEK does not hold: those users cannot finish a login with their second factor. ` +
          'Put that KEK back into KEYS_KEK, and run npm run keys:rewrap before removing it again',
      );
    }
  }

  async isActive(userId: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const rows = (await manager.query('SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL', [userId])) as unknown[];
    return rows.length > 0;
  }

  /** A new pending secret (replacing an unconfirmed one); 409 while one is active. */
  async startEnrollment(user: AuthenticatedUser, client: ClientContext): Promise<TotpEnrollment> {
    const secret = newTotpSecret();
    const { ciphertext, kekId } = this.keys.sealSecret(secret, totpSecretContext(user.id));
    const now = this.clock.now();
    const rows = (await this.dataSource.query(
      `INSERT INTO user_totp (user_id, secret_ciphertext, kek_id, created_at, confirmed_at, last_used_step)
       SELECT $1, $2, $3, $4, NULL, NULL FROM users WHERE id = $1
       ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = EXCLUDED.secret_ciphertext, kek_id = EXCLUDED.kek_id,
         created_at = EXCLUDED.created_at, last_used_step = NULL
         WHERE user_totp.confirmed_at IS NULL
       RETURNING user_id`,
      [user.id, ciphertext, kekId, now],
    )) as unknown[];
    if (rows.length === 0) throw ApiError.conflict('TOTP is already active: remove it first');
    await this.audit.record({ type: 'mfa_enrollment_started', userId: user.id, client });
    return { secret: base32Of(secret), otpauthUri: otpauthUri(secret, new URL(this.config.tokens.issuer).host, user.email) };
  }

  /**
   * Activates the pending secret with a first code, issues ten recovery codes (only their hashes
   * are kept) and ends the user's other sessions.
   * @throws ApiError 400 invalid_grant for a wrong code or no pending enrollment
   */
  async confirmEnrollment(user: AuthenticatedUser, code: string, client: ClientContext): Promise<string[]> {
    const recoveryCodes = newRecoveryCodes();
    const confirmed = await this.revocations.transaction(async (revoke) => {
      const { manager, at } = revoke;
      // The user's row first, as every revocation of their other sessions needs (see revokeOtherSessionsOf).
      await manager.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
      const [row] = (await manager.query(
        'SELECT secret_ciphertext AS "ciphertext", kek_id AS "kekId" FROM user_totp WHERE user_id = $1 AND confirmed_at IS NULL FOR UPDATE',
        [user.id],
      )) as Array<{ ciphertext: Buffer; kekId: string }>;
      if (row === undefined) return false;
      const step = matchingStep(this.keys.openSecret(row.ciphertext, totpSecretContext(user.id), row.kekId), code, at.getTime());
      if (step === undefined) return false;
      await manager.query('UPDATE user_totp SET confirmed_at = $2, last_used_step = $3 WHERE user_id = $1', [user.id, at, step]);
      await manager.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [user.id]);
      for (const recoveryCode of recoveryCodes) {
        await manager.query('INSERT INTO mfa_recovery_codes (id, user_id, code_hash, used_at) VALUES ($1, $2, $3, NULL)', [
          randomUUID(),
          user.id,
          hashRecoveryCode(recoveryCode),
        ]);
      }
      const sessions = await revoke.revokeOtherSessionsOf(user.id, user.sessionId, 'mfa_enrolled');
      await this.audit.record({ type: 'mfa_enrolled', userId: user.id, sessionId: user.sessionId, client, details: { sessions } }, manager);
      return true;
    });
    if (!confirmed) {
      await this.audit.record({ type: 'mfa_enrollment_failed', userId: user.id, client });
      throw ApiError.invalidSecondFactor();
    }
    return recoveryCodes;
  }

  /**
   * Removes the second factor with a current code (TOTP or recovery), counted by the login
   * throttle like a password, and ends the user's other sessions.
   * @throws ApiError 400 invalid_grant, 429
   */
  async remove(user: AuthenticatedUser, code: string, client: ClientContext): Promise<void> {
    const attempt = await this.throttle.reserve(user.email, { ip: client.ip });
    const removed = await this.revocations.transaction(async (revoke) => {
      const { manager, at } = revoke;
      await manager.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
      if ((await this.spendCode(manager, user.id, code, at)) === undefined) return false;
      await this.deleteAllOf(manager, user.id);
      const sessions = await revoke.revokeOtherSessionsOf(user.id, user.sessionId, 'mfa_removed');
      await this.audit.record({ type: 'mfa_removed', userId: user.id, sessionId: user.sessionId, client, details: { sessions } }, manager);
      return true;
    });
    if (!removed) {
      await this.audit.record({ type: 'mfa_removal_failed', userId: user.id, client });
      throw ApiError.invalidSecondFactor();
    }
    await this.throttle.succeeded(attempt);
  }

  /** An admin's reset, inside the admin's transaction (which holds the user's row and revokes the sessions). */
  async deleteAllOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.query('DELETE FROM mfa_challenges WHERE user_id = $1', [userId]);
    await manager.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
    await manager.query('DELETE FROM user_totp WHERE user_id = $1', [userId]);
  }

  /** The mfa_token of a login whose password was right; only its hash is stored. */
  async openChallenge(userId: string, passwordHash: string, firstAttempt: LoginAttempt): Promise<{ token: string; expiresIn: number }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresIn = this.config.mfa.challengeTtlSeconds;
    await this.dataSource.query(
      `INSERT INTO mfa_challenges (id, user_id, token_hash, password_hash, throttle_account_key, throttle_client_key, throttle_budgeted,
         created_at, expires_at, used_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)`,
      [
        randomUUID(),
        userId,
        hashToken(token),
        passwordHash,
        firstAttempt.accountKey,
        firstAttempt.clientKey,
        firstAttempt.budgeted,
        now,
        new Date(now.getTime() + expiresIn * 1000),
      ],
    );
    return { token, expiresIn };
  }

  /** The live (unspent, unexpired) challenge of an mfa_token, or undefined. */
  async findChallenge(token: string): Promise<PendingChallenge | undefined> {
    if (!MFA_TOKEN_PATTERN.test(token)) return undefined;
    const [row] = (await this.dataSource.query(
      `SELECT id, user_id AS "userId", password_hash AS "passwordHash", throttle_account_key AS "accountKey",
              throttle_client_key AS "clientKey", throttle_budgeted AS "budgeted"
       FROM mfa_challenges WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
      [hashToken(token), this.clock.now()],
    )) as Array<{ id: string; userId: string; passwordHash: string; accountKey: Buffer; clientKey: string; budgeted: boolean }>;
    if (row === undefined) return undefined;
    return {
      id: row.id,
      userId: row.userId,
      passwordHash: row.passwordHash,
      firstAttempt: { accountKey: row.accountKey, clientKey: row.clientKey, budgeted: row.budgeted },
    };
  }

  /**
   * Spends the challenge and the code together, or neither: a wrong code leaves the mfa_token
   * usable (until it expires; the login throttle counts each try), a right one spends both.
   * @returns the factor used, or undefined when the code is wrong or either was spent meanwhile
   */
  async redeem(challenge: PendingChallenge, code: string): Promise<SecondFactor | undefined> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const now = this.clock.now();
        const spent = returned(
          await manager.query('UPDATE mfa_challenges SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING id', [
            challenge.id,
            now,
          ]),
        );
        if (spent.length === 0) return undefined;
        const factor = await this.spendCode(manager, challenge.userId, code, now);
        // Rolls the challenge back: the same mfa_token may try again.
        if (factor === undefined) throw new CodeRefused();
        return factor;
      });
    } catch (error) {
      if (error instanceof CodeRefused) return undefined;
      throw error;
    }
  }

  /** Accepts a TOTP code by raising the user's last used time step, or spends an unused recovery code. */
  private async spendCode(manager: EntityManager, userId: string, code: string, now: Date): Promise<SecondFactor | undefined> {
    const [row] = (await manager.query(
      'SELECT secret_ciphertext AS "ciphertext", kek_id AS "kekId" FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL',
      [userId],
    )) as Array<{ ciphertext: Buffer; kekId: string }>;
    if (row === undefined) return undefined;
    if (TOTP_CODE_PATTERN.test(code)) {
      const step = matchingStep(this.keys.openSecret(row.ciphertext, totpSecretContext(userId), row.kekId), code, now.getTime());
      if (step === undefined) return undefined;
      // Conditional in SQL: of two replicas accepting the same code at once, one raises the step.
      const raised = returned(
        await manager.query(
          `UPDATE user_totp SET last_used_step = $2 WHERE user_id = $1 AND confirmed_at IS NOT NULL
             AND (last_used_step IS NULL OR last_used_step < $2) RETURNING user_id`,
          [userId, step],
        ),
      );
      return raised.length === 1 ? 'totp' : undefined;
    }
    const used = returned(
      await manager.query('UPDATE mfa_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id', [
        userId,
        hashRecoveryCode(code),
        now,
      ]),
    );
    return used.length === 1 ? 'recovery_code' : undefined;
  }
}

class CodeRefused extends Error {}
