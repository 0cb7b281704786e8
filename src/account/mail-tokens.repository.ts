import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService, type AuditRecord } from '../audit/audit.service.js';
import { OutboxRepository, type QueuedMail } from '../mail/outbox.repository.js';
import type { MailTokenOutcome, MailTokenPurpose } from './mail-token.entity.js';

/** A token to issue with its mail, written in one statement. */
export interface TokenIssue {
  /** The account, locked by the caller; null when there is none (an unknown address): the same statement runs and writes nothing. */
  readonly userId: string | null;
  readonly purpose: MailTokenPurpose;
  readonly tokenId: string;
  readonly tokenHash: Buffer;
  readonly at: Date;
  readonly expiresAt: Date;
  /** Whether the account's unused tokens of this purpose stop working (a new reset link voids the older ones). */
  readonly voidOlder: boolean;
  /** Mails to one account per hour, all kinds together; beyond it nothing is issued. */
  readonly mailsPerHour: number;
  readonly mail: QueuedMail;
  readonly audit: AuditRecord;
}

/** Why a presented token did not work, for the audit trail (the client always hears invalid_grant). */
export type TokenFailure = 'unknown' | 'expired' | 'account_disabled' | MailTokenOutcome;

export interface PresentedToken {
  readonly userId: string;
  readonly usable: boolean;
  readonly failure?: TokenFailure;
}

/** The SQL of mail tokens: issued with their mail and audit event in one statement, consumed once. */
@Injectable()
export class MailTokensRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * Token, mail and audit event in one statement, written only for an enabled account within its
   * mail budget. The statement is the same whether the account exists or not (see PasswordRecovery.forgot).
   * @returns whether the token was issued (and its mail queued)
   */
  async issue(manager: EntityManager, issue: TokenIssue): Promise<boolean> {
    const params: unknown[] = [
      issue.userId,
      new Date(issue.at.getTime() - 3600_000),
      issue.mailsPerHour,
      issue.at,
      issue.voidOlder,
      issue.purpose,
      issue.tokenId,
      issue.tokenHash,
      issue.expiresAt,
    ];
    const rows = (await manager.query(
      `WITH target AS (
         SELECT id, email FROM users
         WHERE id = $1::uuid AND NOT disabled
           AND (SELECT count(*) FROM mail_outbox o WHERE o.user_id = users.id AND o.created_at > $2::timestamptz) < $3::int
       ), voided AS (
         UPDATE mail_tokens SET consumed_at = $4::timestamptz, outcome = 'superseded'
         FROM target WHERE $5::boolean AND mail_tokens.user_id = target.id AND mail_tokens.purpose = $6::text AND mail_tokens.consumed_at IS NULL
       ), issued AS (
         INSERT INTO mail_tokens (id, user_id, purpose, token_hash, created_at, expires_at)
         SELECT $7::uuid, id, $6::text, $8::bytea, $4::timestamptz, $9::timestamptz FROM target RETURNING user_id
       ), queued AS (
         ${this.outbox.insertStatement(issue.mail, params, 'target')}
       )
       ${this.audit.insertStatement(issue.audit, params, 'issued')}
       RETURNING id`,
      params,
    )) as unknown[];
    return rows.length === 1;
  }

  /** The token's account and whether it may be used now; undefined for a token never issued (or deleted since it expired). */
  async inspect(tokenHash: Buffer, purpose: MailTokenPurpose, now: Date): Promise<PresentedToken | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT t.user_id AS "userId", t.outcome, t.expires_at AS "expiresAt", u.disabled
       FROM mail_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.purpose = $2`,
      [tokenHash, purpose],
    )) as Array<{ userId: string; outcome: MailTokenOutcome | null; expiresAt: Date; disabled: boolean }>;
    if (row === undefined) return undefined;
    const failure: TokenFailure | undefined = row.outcome ?? (row.expiresAt <= now ? 'expired' : row.disabled ? 'account_disabled' : undefined);
    return { userId: row.userId, usable: failure === undefined, ...(failure === undefined ? {} : { failure }) };
  }

  /**
   * Spends the token: of concurrent presentations exactly one succeeds (the row lock, then the
   * re-checked condition). The caller holds the account's row first, as issue's callers do, so the
   * two never wait on each other in opposite orders.
   * @returns whether it was usable until now
   */
  async consume(manager: EntityManager, tokenHash: Buffer, purpose: MailTokenPurpose, userId: string, now: Date): Promise<boolean> {
    const [, affected] = (await manager.query(
      `UPDATE mail_tokens SET consumed_at = $2, outcome = 'used'
       WHERE token_hash = $1 AND purpose = $3 AND user_id = $4 AND consumed_at IS NULL AND expires_at > $2`,
      [tokenHash, now, purpose, userId],
    )) as [unknown, number];
    return affected === 1;
  }

  /** Ends the account's unused tokens of this purpose (a password set another way, an address verified). */
  async voidAll(manager: EntityManager, userId: string, purpose: MailTokenPurpose, now: Date): Promise<void> {
    await manager.query(
      `UPDATE mail_tokens SET consumed_at = $3, outcome = 'superseded' WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL`,
      [userId, purpose, now],
    );
  }

  /** The oldest mail to the account within the last hour: when its mail budget frees up again. */
  async oldestMailSince(userId: string, since: Date): Promise<Date | undefined> {
    const [row] = (await this.dataSource.query(`SELECT min(created_at) AS oldest FROM mail_outbox WHERE user_id = $1 AND created_at > $2`, [
      userId,
      since,
    ])) as Array<{ oldest: Date | null }>;
    return row?.oldest ?? undefined;
  }

  /** Expired tokens (used or not) are of no more use; in batches that skip rows another replica holds. */
  async deleteExpired(now: Date, batchSize: number): Promise<number> {
    const [, affected] = (await this.dataSource.query(
      `DELETE FROM mail_tokens WHERE id IN (SELECT id FROM mail_tokens WHERE expires_at <= $1 LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`,
      [now],
    )) as [unknown, number];
    return affected;
  }
}
