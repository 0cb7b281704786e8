import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../users/user.entity.js';

export type MailTokenPurpose = 'password_reset' | 'email_verification';

/** How a token stopped being usable before it expired. */
export type MailTokenOutcome = 'used' | 'superseded';

/**
 * A token sent by mail (password reset, email verification): only its SHA-256 is kept, it is
 * usable once, until `expires_at`, and deleted by the retention sweep once expired.
 */
@Entity({ name: 'mail_tokens' })
@Index('mail_tokens_user_id_idx', ['userId', 'purpose'])
@Index('mail_tokens_expires_at_idx', ['expiresAt'])
export class MailToken {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'mail_tokens_pkey' })
  id!: string;

  /** The account goes, its tokens go with it. */
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'mail_tokens_user_id_fkey' })
  user!: Relation<User>;

  @Column({ type: 'text' })
  purpose!: MailTokenPurpose;

  @Index('mail_tokens_token_hash_key', { unique: true })
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  outcome!: MailTokenOutcome | null;
}
