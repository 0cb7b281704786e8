import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'users' })
export class User {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id!: string;

  /** Canonical form only (see normalizeEmail); the unique index makes it one account per address. */
  @Index('users_email_key', { unique: true })
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ type: 'text', array: true, default: () => "'{user}'" })
  roles!: string[];

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /** Set once the owner opened a verification (or password reset) link sent to `email`. */
  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified!: boolean;

  /**
   * Raised by every change that voids the user's access tokens (roles, disabling, ending all
   * sessions). Each token carries the generation it was issued under; an older one is refused.
   */
  @Column({ name: 'token_generation', type: 'integer', default: 0 })
  tokenGeneration!: number;

  /** When token_generation last rose: the revocation list reloads the recent ones. */
  @Index('users_tokens_revoked_at_idx', { where: '"tokens_revoked_at" IS NOT NULL' })
  @Column({ name: 'tokens_revoked_at', type: 'timestamptz', nullable: true })
  tokensRevokedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
