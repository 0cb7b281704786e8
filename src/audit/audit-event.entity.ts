import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type AuditEventType =
  | 'login_succeeded'
  | 'login_failed'
  | 'refresh_reuse_detected'
  | 'session_revoked'
  | 'user_sessions_revoked'
  | 'roles_changed'
  | 'user_disabled'
  | 'user_enabled'
  | 'admin_created'
  | 'key_rotated'
  | 'login_throttle_cleared'
  | 'client_created'
  | 'client_updated'
  | 'client_disabled'
  | 'client_enabled'
  | 'client_secret_rotated'
  | 'client_deleted'
  | 'client_token_revoked'
  | 'password_changed'
  | 'password_change_failed'
  | 'password_reset_requested'
  | 'password_reset'
  | 'password_reset_failed'
  | 'email_verification_sent'
  | 'email_verified'
  | 'email_verification_failed'
  | 'account_deleted'
  | 'account_deletion_failed'
  | 'mfa_enrollment_started'
  | 'mfa_enrolled'
  | 'mfa_enrollment_failed'
  | 'mfa_challenge_failed'
  | 'mfa_recovery_code_used'
  | 'mfa_removed'
  | 'mfa_removal_failed'
  | 'mfa_reset';

export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = [
  'login_succeeded',
  'login_failed',
  'refresh_reuse_detected',
  'session_revoked',
  'user_sessions_revoked',
  'roles_changed',
  'user_disabled',
  'user_enabled',
  'admin_created',
  'key_rotated',
  'login_throttle_cleared',
  'client_created',
  'client_updated',
  'client_disabled',
  'client_enabled',
  'client_secret_rotated',
  'client_deleted',
  'client_token_revoked',
  'password_changed',
  'password_change_failed',
  'password_reset_requested',
  'password_reset',
  'password_reset_failed',
  'email_verification_sent',
  'email_verified',
  'email_verification_failed',
  'account_deleted',
  'account_deletion_failed',
  'mfa_enrollment_started',
  'mfa_enrolled',
  'mfa_enrollment_failed',
  'mfa_challenge_failed',
  'mfa_recovery_code_used',
  'mfa_removed',
  'mfa_removal_failed',
  'mfa_reset',
];

/** Ids, reasons, roles and counts: nothing a caller typed as a secret ever goes here. */
export type AuditDetails = Record<string, string | number | boolean | string[] | null>;

/** Append-only: the service inserts rows and never updates or deletes them. */
@Entity({ name: 'audit_events' })
@Index('audit_events_occurred_at_idx', ['occurredAt', 'id'])
@Index('audit_events_user_id_idx', ['userId', 'occurredAt'])
export class AuditEvent {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'audit_events_pkey' })
  id!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'text' })
  type!: AuditEventType;

  /** No foreign key: the trail outlives the users and sessions it mentions. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId!: string | null;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  /** Never a password, token or hash; see AuditService. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: AuditDetails;
}
