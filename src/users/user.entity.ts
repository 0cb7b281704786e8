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

  /**
   * Access tokens issued before this moment are refused (set when roles change or the account is
   * disabled), and none is issued dated before it.
   */
  @Index('users_tokens_not_before_idx', { where: '"tokens_not_before" IS NOT NULL' })
  @Column({ name: 'tokens_not_before', type: 'timestamptz', nullable: true })
  tokensNotBefore!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
