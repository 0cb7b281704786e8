import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Requests per client IP and route in the current one-minute window. */
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

/** Login attempts per account, for the tarpit. Keyed by a hash: attempted emails are not stored. */
@Entity({ name: 'login_throttle' })
@Index('login_throttle_updated_at_idx', ['updatedAt'])
export class LoginThrottle {
  @PrimaryColumn({ name: 'account_key', type: 'bytea', primaryKeyConstraintName: 'login_throttle_pkey' })
  accountKey!: Buffer;

  /** Attempts counted as failures since the last success (an attempt counts until it succeeds). */
  @Column({ type: 'integer' })
  failures!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
