import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../users/user.entity.js';

export type SessionRevocationReason =
  | 'logout'
  | 'refresh_token_reuse'
  | 'revoked_by_client'
  | 'revoked_by_admin'
  | 'user_disabled'
  // Account self-service (issue 18)
  | 'revoked_by_user'
  | 'password_changed'
  | 'password_reset'
  | 'account_deleted'
  // The second factor (issue 19): enrolled or removed by the user, reset by an admin
  | 'mfa_enrolled'
  | 'mfa_removed'
  | 'mfa_reset';

/** A login: the family of refresh tokens it rotates through, and the `sid` claim of its access tokens. */
@Entity({ name: 'sessions' })
// Revocation-list loads read only the recently revoked sessions.
@Index('sessions_revoked_at_idx', ['revokedAt'], { where: '"revoked_at" IS NOT NULL' })
export class Session {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'sessions_pkey' })
  id!: string;

  @Index('sessions_user_id_idx')
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sessions_user_id_fkey' })
  user!: Relation<User>;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt!: Date;

  /** Absolute end of the session, counted from login; no refresh extends it. */
  @Index('sessions_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  /** RFC 8176 methods the login proved (`pwd`, `otp`): every access token of the session carries them as `amr`. */
  @Column({ type: 'text', array: true, default: () => "'{pwd}'" })
  amr!: string[];

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'text', nullable: true })
  revokedReason!: SessionRevocationReason | null;
}
