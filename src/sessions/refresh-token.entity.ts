import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Session } from './session.entity.js';

/** One link of a session's rotation chain. The token itself is never stored, only its SHA-256. */
@Entity({ name: 'refresh_tokens' })
export class RefreshToken {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'refresh_tokens_pkey' })
  id!: string;

  @Index('refresh_tokens_session_id_idx')
  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @ManyToOne(() => Session, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'refresh_tokens_session_id_fkey' })
  session!: Relation<Session>;

  /** The token this one replaced; null for the first token of a session. */
  @Index('refresh_tokens_parent_id_idx')
  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parentId!: string | null;

  @Index('refresh_tokens_token_hash_key', { unique: true })
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt!: Date;

  /** Idle expiry, never later than the session's absolute expiry. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  /** When this token was spent by a rotation; a later presentation is a reuse (or a grace retry). */
  // The retention sweep finds the replays still to be cleared.
  @Index('refresh_tokens_pending_replay_idx', { where: '"rotation_replay" IS NOT NULL' })
  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  /**
   * The response of the rotation that spent this token, sealed under a key derived from this
   * token, so a retry within the grace window gets the identical pair. Only the token's holder
   * can open it; the database alone cannot. Cleared by the retention sweep once the grace window
   * has passed, so a dump cannot be unsealed hop by hop along the chain.
   */
  @Column({ name: 'rotation_replay', type: 'bytea', nullable: true })
  rotationReplay!: Buffer | null;
}
