import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, LessThan } from 'typeorm';
import { Clock } from '../common/clock.js';
import { repeatInBackground } from '../common/repeat.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { LOGIN_FAILURE_DECAY_SECONDS, loginBackoffSeconds } from './backoff.js';
import { LoginThrottle, RateLimitCounter } from './throttle.entities.js';

const WINDOW_MS = 60_000;
const CLEANUP_INTERVAL_MS = 10 * 60_000;

/**
 * Throttling shared by every replica, kept in Postgres: one atomic statement per request for the
 * IP limit, one row-locked transaction per login for the account tarpit. Postgres rather than
 * Redis because it is already the one dependency, and a login already spends ~7 ms in argon2
 * against the ~0.3 ms these queries add (see the README's Security section for the numbers).
 */
@Injectable()
export class ThrottleService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ThrottleService.name);
  private cleanupTimer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.cleanupTimer = repeatInBackground(CLEANUP_INTERVAL_MS, () => this.removeStaleRows(), this.logger, 'Throttle cleanup failed');
  }

  onModuleDestroy(): void {
    clearInterval(this.cleanupTimer);
  }

  /**
   * Counts a request of `scope` from `ip` in the current one-minute window, atomically across
   * replicas. @throws ApiError 429 once the window's budget is spent
   */
  async countIpRequest(scope: string, ip: string): Promise<void> {
    const now = this.clock.now().getTime();
    const windowStart = new Date(now - (now % WINDOW_MS));
    const [{ hits }] = (await this.dataSource.query(
      `INSERT INTO rate_limit_counters AS counter (key, window_start, hits) VALUES ($1, $2, 1)
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN counter.window_start = EXCLUDED.window_start THEN counter.hits + 1 ELSE 1 END,
         window_start = EXCLUDED.window_start
       RETURNING hits`,
      [`${scope}:${ip}`, windowStart],
    )) as Array<{ hits: number }>;
    if (hits > this.config.throttling.ipRequestsPerMinute) {
      this.metrics.rateLimited.inc({ throttle: `ip:${scope}` });
      throw ApiError.rateLimited((windowStart.getTime() + WINDOW_MS - now) / 1000);
    }
  }

  /**
   * Takes one login attempt for an account before its password is checked, and counts it as a
   * failure until loginSucceeded() says otherwise. Reserving first is what makes the counter hold
   * under concurrency: of 50 parallel guesses only the free ones get an argon2 check, and during a
   * backoff even the right password is 429 (the answer must not tell whether it was right).
   * @param email canonical; only its hash is stored
   * @throws ApiError 429 with Retry-After while the account's backoff runs
   */
  async reserveLoginAttempt(email: string): Promise<void> {
    const accountKey = this.accountKey(email);
    const now = this.clock.now();
    const { loginFreeFailures, loginMaxBackoffSeconds } = this.config.throttling;

    const retryAfterMs = await this.dataSource.transaction(async (manager) => {
      // Creates or locks the account's row in one statement: a separate insert-then-select could
      // lose the row to a concurrent successful login deleting it in between.
      const [row] = (await manager.query(
        `INSERT INTO login_throttle AS throttle (account_key, failures, next_attempt_at, updated_at) VALUES ($1, 0, $2, $2)
         ON CONFLICT (account_key) DO UPDATE SET account_key = throttle.account_key
         RETURNING failures, next_attempt_at AS "nextAttemptAt", updated_at AS "updatedAt"`,
        [accountKey, now],
      )) as Array<Pick<LoginThrottle, 'failures' | 'nextAttemptAt' | 'updatedAt'>>;
      if (row === undefined) throw new Error('login_throttle upsert returned no row');
      if (row.nextAttemptAt > now) return row.nextAttemptAt.getTime() - now.getTime();

      const forgotten = now.getTime() - row.updatedAt.getTime() > LOGIN_FAILURE_DECAY_SECONDS * 1000;
      const failures = (forgotten ? 0 : row.failures) + 1;
      const delaySeconds = loginBackoffSeconds(failures, loginFreeFailures, loginMaxBackoffSeconds);
      await manager.update(LoginThrottle, { accountKey }, { failures, nextAttemptAt: new Date(now.getTime() + delaySeconds * 1000), updatedAt: now });
      return 0;
    });
    if (retryAfterMs > 0) {
      this.metrics.rateLimited.inc({ throttle: 'login_account' });
      throw ApiError.rateLimited(retryAfterMs / 1000);
    }
  }

  async loginSucceeded(email: string): Promise<void> {
    await this.dataSource.getRepository(LoginThrottle).delete({ accountKey: this.accountKey(email) });
  }

  private accountKey(email: string): Buffer {
    return createHash('sha256').update(email).digest();
  }

  private async removeStaleRows(): Promise<void> {
    const now = this.clock.now().getTime();
    await this.dataSource.getRepository(RateLimitCounter).delete({ windowStart: LessThan(new Date(now - 2 * WINDOW_MS)) });
    await this.dataSource
      .getRepository(LoginThrottle)
      .delete({ updatedAt: LessThan(new Date(now - LOGIN_FAILURE_DECAY_SECONDS * 1000)) });
  }
}
