import { Column, Entity, Index, JoinColumn, ManyToOne, OneToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../users/user.entity.js';

/**
 * A user's TOTP secret (RFC 6238), encrypted under the key-encryption keys with the user id bound
 * in. Pending until the first code confirms it. `last_used_step` is the newest time step accepted:
 * a code is accepted only by raising it, in one conditional UPDATE, so a replay is refused on
 * every replica.
 */
@Entity({ name: 'user_totp' })
export class UserTotp {
  @PrimaryColumn({ name: 'user_id', type: 'uuid', primaryKeyConstraintName: 'user_totp_pkey' })
  userId!: string;

  @OneToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'user_totp_user_id_fkey' })
  user!: Relation<User>;

  @Column({ name: 'secret_ciphertext', type: 'bytea' })
  secretCiphertext!: Buffer;

  @Column({ name: 'kek_id', type: 'text' })
  kekId!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true })
  confirmedAt!: Date | null;

  @Column({ name: 'last_used_step', type: 'bigint', nullable: true })
  lastUsedStep!: string | null;
}

/** A single-use recovery code, kept only as the SHA-256 of its normalised form (80 random bits). */
@Entity({ name: 'mfa_recovery_codes' })
@Index('mfa_recovery_codes_user_id_code_hash_key', ['userId', 'codeHash'], { unique: true })
export class MfaRecoveryCode {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'mfa_recovery_codes_pkey' })
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'mfa_recovery_codes_user_id_fkey' })
  user!: Relation<User>;

  @Column({ name: 'code_hash', type: 'bytea' })
  codeHash!: Buffer;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}

/**
 * The first step of a login of a user with a second factor: the password was right. Only the
 * SHA-256 of its mfa_token is kept; it is spent by the second step's success, in the transaction
 * that checks the code. It carries the password hash the first step verified (the session opens
 * only while that is still the account's) and the login throttle's client of the first step.
 */
@Entity({ name: 'mfa_challenges' })
export class MfaChallenge {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'mfa_challenges_pkey' })
  id!: string;

  @Index('mfa_challenges_user_id_idx')
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'mfa_challenges_user_id_fkey' })
  user!: Relation<User>;

  @Index('mfa_challenges_token_hash_key', { unique: true })
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ name: 'throttle_account_key', type: 'bytea' })
  throttleAccountKey!: Buffer;

  @Column({ name: 'throttle_client_key', type: 'text' })
  throttleClientKey!: string;

  @Column({ name: 'throttle_budgeted', type: 'boolean' })
  throttleBudgeted!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Index('mfa_challenges_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}
