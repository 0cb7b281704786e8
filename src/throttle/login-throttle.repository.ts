import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** A client's failures on an account as last written (a new row: none). */
export interface ClientFailures {
  readonly failures: number;
  readonly nextAttemptAt: Date;
  readonly updatedAt: Date;
}

/** An account's guess budget as last written (a new row: nothing spent). */
export interface SpentBudget {
  readonly spent: number;
  readonly updatedAt: Date;
}

/** What a reservation writes back, or how long the client must wait instead. */
export type Admission =
  | { readonly admitted: true; readonly client: Omit<ClientFailures, 'updatedAt'>; readonly budgetSpent?: number }
  | { readonly admitted: false; readonly retryAfterMs: number; readonly refusedBy: 'client' | 'account' };

/**
 * The login throttle's rows: per (account, client) failures and per-account guess budgets, in
 * UNLOGGED tables (minutes of state that rebuild themselves, kept off the write-ahead log).
 */
@Injectable()
export class LoginThrottleRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Lets `decide` judge the client's failures (and the account's budget unless the client is
   * trusted) and writes what it admits. A refusal is decided on a plain read and writes nothing, so
   * a client knocking while over budget adds no write load; an admission is decided again on the
   * rows locked in the transaction that writes it, where concurrent attempts on one account queue,
   * each seeing the one before it.
   */
  async reserve(
    accountKey: Buffer,
    clientKey: string,
    budgeted: boolean,
    now: Date,
    decide: (client: ClientFailures, budget: SpentBudget | undefined) => Admission,
  ): Promise<Admission> {
    const [seen] = (await this.dataSource.query(
      `SELECT c.failures, c.next_attempt_at AS "nextAttemptAt", c.updated_at AS "updatedAt",
              b.spent, b.updated_at AS "budgetUpdatedAt"
         FROM (SELECT 1) AS one
         LEFT JOIN login_throttle c ON c.account_key = $1 AND c.client_key = $2
         LEFT JOIN login_guess_budgets b ON $3 AND b.account_key = $1`,
      [accountKey, clientKey, budgeted],
    )) as Array<{ failures: number | null; nextAttemptAt: Date | null; updatedAt: Date | null; spent: number | null; budgetUpdatedAt: Date | null }>;
    const unseen: ClientFailures = { failures: 0, nextAttemptAt: now, updatedAt: now };
    const peeked = decide(
      seen?.failures != null ? { failures: seen.failures, nextAttemptAt: seen.nextAttemptAt!, updatedAt: seen.updatedAt! } : unseen,
      !budgeted ? undefined : seen?.spent != null ? { spent: seen.spent, updatedAt: seen.budgetUpdatedAt! } : { spent: 0, updatedAt: now },
    );
    if (!peeked.admitted) return peeked;

    return this.dataSource.transaction(async (manager) => {
      // Creates or locks each row in one statement: an insert-then-select could lose the row to a
      // concurrent success deleting it in between.
      const [client] = (await manager.query(
        `INSERT INTO login_throttle AS row (account_key, client_key, failures, next_attempt_at, updated_at) VALUES ($1, $2, 0, $3, $3)
         ON CONFLICT (account_key, client_key) DO UPDATE SET failures = row.failures
         RETURNING failures, next_attempt_at AS "nextAttemptAt", updated_at AS "updatedAt"`,
        [accountKey, clientKey, now],
      )) as ClientFailures[];
      const budget = budgeted
        ? (
            (await manager.query(
              `INSERT INTO login_guess_budgets AS row (account_key, spent, updated_at) VALUES ($1, 0, $2)
             ON CONFLICT (account_key) DO UPDATE SET spent = row.spent
             RETURNING spent, updated_at AS "updatedAt"`,
              [accountKey, now],
            )) as SpentBudget[]
          )[0]
        : undefined;
      if (client === undefined) throw new Error('login_throttle upsert returned no row');

      const admission = decide(client, budget);
      if (!admission.admitted) return admission;
      await manager.query(
        `UPDATE login_throttle SET failures = $3, next_attempt_at = $4, updated_at = $5 WHERE account_key = $1 AND client_key = $2`,
        [accountKey, clientKey, admission.client.failures, admission.client.nextAttemptAt, now],
      );
      if (admission.budgetSpent !== undefined) {
        await manager.query(`UPDATE login_guess_budgets SET spent = $2, updated_at = $3 WHERE account_key = $1`, [
          accountKey,
          admission.budgetSpent,
          now,
        ]);
      }
      return admission;
    });
  }

  /** The client's failures end with its success; the budget gets back only the one guess it lent. */
  async succeeded(accountKey: Buffer, clientKey: string, budgeted: boolean): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`DELETE FROM login_throttle WHERE account_key = $1 AND client_key = $2`, [accountKey, clientKey]);
      if (budgeted) await manager.query(`UPDATE login_guess_budgets SET spent = greatest(spent - 1, 0) WHERE account_key = $1`, [accountKey]);
    });
  }

  async clear(manager: EntityManager, accountKey: Buffer): Promise<void> {
    await manager.query(`DELETE FROM login_throttle WHERE account_key = $1`, [accountKey]);
    await manager.query(`DELETE FROM login_guess_budgets WHERE account_key = $1`, [accountKey]);
  }

  /** Rows not written since `before` hold nothing that still counts. */
  async removeStale(before: Date): Promise<void> {
    await this.dataSource.query(`DELETE FROM login_throttle WHERE updated_at < $1`, [before]);
    await this.dataSource.query(`DELETE FROM login_guess_budgets WHERE updated_at < $1`, [before]);
  }
}
