import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../users/user.entity.js';

/**
 * A mail queued in the transaction that decided to send it (the transactional outbox), delivered
 * by OutboxSender. `next_attempt_at` is both the retry schedule and the claim's lease: a sender
 * claims a row by moving it into the future, so a sender that dies before marking it sent leaves
 * it to be claimed again once the lease has passed.
 */
@Entity({ name: 'mail_outbox' })
@Index('mail_outbox_due_idx', ['nextAttemptAt'], { where: '"sent_at" IS NULL AND "abandoned_at" IS NULL' })
@Index('mail_outbox_user_id_idx', ['userId'])
export class OutboxMessage {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'mail_outbox_pkey' })
  id!: string;

  /** Deleting the account deletes its queued and sent mails. */
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'mail_outbox_user_id_fkey' })
  user!: Relation<User>;

  @Column({ type: 'varchar', length: 254 })
  recipient!: string;

  @Column({ type: 'text' })
  subject!: string;

  /** Holds the link until the mail is sent; emptied when it is. */
  @Column({ name: 'text_body', type: 'text' })
  textBody!: string;

  @Column({ name: 'html_body', type: 'text', nullable: true })
  htmlBody!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** The link in it is dead after this: a mail still unsent then is abandoned, not sent. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Column({ name: 'abandoned_at', type: 'timestamptz', nullable: true })
  abandonedAt!: Date | null;
}
