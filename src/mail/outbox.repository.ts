import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { OutgoingMail } from './mail-transport.js';

/** A mail to queue: the caller composes it, and names the account it is for. */
export interface QueuedMail {
  readonly id: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string | null;
  readonly at: Date;
  /** When its link dies: an unsent mail is abandoned then. */
  readonly expiresAt: Date;
}

export interface ClaimedMail extends OutgoingMail {
  readonly attempts: number;
}

/** The SQL of the mail outbox. */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The INSERT of a mail for a caller that writes it within its own statement (a CTE), once per row
   * of `from`, which must have the account's `id` and `email` columns. Its values are appended to `params`.
   */
  insertStatement(mail: QueuedMail, params: unknown[], from: string): string {
    const p = (value: unknown, type: string) => `$${params.push(value)}::${type}`;
    return `INSERT INTO mail_outbox (id, user_id, recipient, subject, text_body, html_body, created_at, expires_at, next_attempt_at)
       SELECT ${p(mail.id, 'uuid')}, ${from}.id, ${from}.email, ${p(mail.subject, 'text')}, ${p(mail.text, 'text')}, ${p(mail.html, 'text')},
              ${p(mail.at, 'timestamptz')}, ${p(mail.expiresAt, 'timestamptz')}, ${p(mail.at, 'timestamptz')} FROM ${from}`;
  }

  /**
   * Claims up to `limit` due mails for `leaseMs`: one statement that moves each row's next attempt
   * to the lease's end, over rows locked with SKIP LOCKED, so concurrent senders (on any replica)
   * claim disjoint sets, and a sender that dies holding a claim leaves the mail due again when the
   * lease ends.
   */
  async claim(now: Date, leaseMs: number, limit: number): Promise<ClaimedMail[]> {
    const [rows] = (await this.dataSource.query(
      `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2
       WHERE id IN (
         SELECT id FROM mail_outbox
         WHERE sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $1 AND expires_at > $1
         ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, recipient AS "to", subject, text_body AS text, html_body AS html, attempts`,
      [now, new Date(now.getTime() + leaseMs), limit],
    )) as [ClaimedMail[], number];
    return rows;
  }

  /** The mail is delivered: its body (the link) is dropped, the row stays for the retention period. */
  async markSent(id: string, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE mail_outbox SET sent_at = $2, text_body = '', html_body = NULL, last_error = NULL WHERE id = $1 AND sent_at IS NULL`,
      [id, at],
    );
  }

  async scheduleRetry(id: string, at: Date, error: string): Promise<void> {
    await this.dataSource.query(`UPDATE mail_outbox SET next_attempt_at = $2, last_error = $3 WHERE id = $1 AND sent_at IS NULL`, [
      id,
      at,
      error.slice(0, 500),
    ]);
  }

  /** Unsent mails whose link has died are given up, and their bodies dropped. */
  async abandonExpired(now: Date): Promise<number> {
    const [, affected] = (await this.dataSource.query(
      `UPDATE mail_outbox SET abandoned_at = $1, text_body = '', html_body = NULL
       WHERE sent_at IS NULL AND abandoned_at IS NULL AND expires_at <= $1`,
      [now],
    )) as [unknown, number];
    return affected;
  }

  /** Sent and abandoned mails older than `before`, in batches that skip rows another replica holds. */
  async deleteFinishedBefore(before: Date, batchSize: number): Promise<number> {
    const [, affected] = (await this.dataSource.query(
      `DELETE FROM mail_outbox WHERE id IN (
         SELECT id FROM mail_outbox WHERE sent_at < $1 OR abandoned_at < $1 LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`,
      [before],
    )) as [unknown, number];
    return affected;
  }
}
