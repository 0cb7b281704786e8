import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../users/user.entity.js';

/** Requests per client network and route in the current one-minute window. */
@Entity({ name: 'rate_limit_counters' })
@Index('rate_limit_counters_window_start_idx', ['windowStart'])
export class RateLimitCounter {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'rate_limit_counters_pkey' })
  key!: string;

  @Column({ name: 'window_start', type: 'timestamptz' })
  windowStart!: Date;

  @Column({ type: 'integer' })
  hits!: number;
}

/**
 * One client's failed logins on one account, for its backoff. Accounts are keyed by a hash of the
 * email (attempted emails are not stored); a client is a trusted device or a network.
 */
@Entity({ name: 'login_throttle' })
@Index('login_throttle_updated_at_idx', ['updatedAt'])
export class LoginThrottle {
  @PrimaryColumn({ name: 'account_key', type: 'bytea', primaryKeyConstraintName: 'login_throttle_pkey' })
  accountKey!: Buffer;

  @PrimaryColumn({ name: 'client_key', type: 'text', primaryKeyConstraintName: 'login_throttle_pkey' })
  clientKey!: string;

  /** Attempts counted as failures since this client's last success (an attempt counts until it succeeds). */
  @Column({ type: 'integer' })
  failures!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** An account's guess budget for clients that are not its trusted devices (see guessBudget). */
@Entity({ name: 'login_guess_budgets' })
@Index('login_guess_budgets_updated_at_idx', ['updatedAt'])
export class LoginGuessBudget {
  @PrimaryColumn({ name: 'account_key', type: 'bytea', primaryKeyConstraintName: 'login_guess_budgets_pkey' })
  accountKey!: Buffer;

  @Column({ type: 'double precision' })
  spent!: number;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/**
 * A device that once logged into the account (OWASP's device cookie): its proof, a random token of
 * which only the SHA-256 is kept, exempts it from the account's guess budget.
 */
@Entity({ name: 'trusted_devices' })
@Index('trusted_devices_user_id_idx', ['userId'])
@Index('trusted_devices_expires_at_idx', ['expiresAt'])
export class TrustedDevice {
  @PrimaryColumn({ name: 'proof_hash', type: 'bytea', primaryKeyConstraintName: 'trusted_devices_pkey' })
  proofHash!: Buffer;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'trusted_devices_user_id_fkey' })
  user!: Relation<User>;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
