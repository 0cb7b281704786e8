import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** 32 random bytes in base64url: unguessable, so it needs no signature, and only its hash is kept. */
const DEVICE_PROOF_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// The newest proofs per user are kept: a script logging in without a cookie jar makes a new
// "device" each time, and must not fill the table.
const MAX_DEVICES_PER_USER = 10;

const hashProof = (proof: string) => createHash('sha256').update(proof).digest();

/**
 * Devices that logged into an account before (OWASP's "device cookie"). A proof is issued at each
 * login from a device without one, is bound to that one account, and ends when it expires, when
 * the user is disabled or all their sessions are revoked, or when the user is deleted.
 */
@Injectable()
export class TrustedDevices {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The key a device's throttle state is kept under: the proof itself is never stored. */
  static clientKey(proof: string): string {
    return `device:${hashProof(proof).toString('base64url')}`;
  }

  static isWellFormed(proof: string | undefined): proof is string {
    return proof !== undefined && DEVICE_PROOF_PATTERN.test(proof);
  }

  /**
   * The account's row is taken (KEY SHARE) before any device row: an INSERT's foreign-key check
   * would take it only at the end of the statement, after the trim had locked device rows, and a
   * password reset holding the row FOR UPDATE while it deletes those device rows then deadlocked
   * with it (found by the reset race test). Concurrent trims skip each other's rows.
   * @returns the new proof, to be handed to the device once; undefined if the account is gone
   */
  async trust(userId: string): Promise<{ proof: string; maxAgeSeconds: number } | undefined> {
    const proof = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const maxAgeSeconds = this.config.throttling.trustedDeviceTtlSeconds;
    const trusted = await this.dataSource.transaction(async (manager) => {
      const account = (await manager.query('SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE', [userId])) as unknown[];
      if (account.length === 0) return false;
      await manager.query(`INSERT INTO trusted_devices (proof_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`, [
        hashProof(proof),
        userId,
        now,
        new Date(now.getTime() + maxAgeSeconds * 1000),
      ]);
      await manager.query(
        `DELETE FROM trusted_devices WHERE proof_hash IN (
           SELECT proof_hash FROM trusted_devices WHERE user_id = $1 ORDER BY created_at DESC OFFSET ${MAX_DEVICES_PER_USER} FOR UPDATE SKIP LOCKED)`,
        [userId],
      );
      return true;
    });
    return trusted ? { proof, maxAgeSeconds } : undefined;
  }

  /** Whether `proof` is a live proof of the account with this canonical email. */
  async recognizes(proof: string, email: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `SELECT 1 FROM trusted_devices d JOIN users u ON u.id = d.user_id WHERE d.proof_hash = $1 AND u.email = $2 AND d.expires_at > $3`,
      [hashProof(proof), email, this.clock.now()],
    )) as unknown[];
    return rows.length > 0;
  }

  async forgetAllOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.query(`DELETE FROM trusted_devices WHERE user_id = $1`, [userId]);
  }

  async removeExpired(): Promise<void> {
    await this.dataSource.query(`DELETE FROM trusted_devices WHERE expires_at < $1`, [this.clock.now()]);
  }
}
