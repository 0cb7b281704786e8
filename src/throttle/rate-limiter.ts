import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { clientNetwork } from './client-network.js';
import { RefusalMemory } from './refusal-memory.js';

export const RATE_LIMIT_WINDOW_MS = 60_000;
const REFUSAL_MEMORY_ENTRIES = 100_000;

/**
 * The per-client request budget (RATE_LIMIT_IP_PER_MINUTE per route scope), shared by every
 * replica through one atomic upsert per request in Postgres, the one dependency the service
 * already has. Once the shared counter refuses a client, this replica refuses it from memory until
 * the window ends: a flood of over-budget requests costs no database work at all.
 */
@Injectable()
export class RateLimiter {
  private readonly refusals = new RefusalMemory(REFUSAL_MEMORY_ENTRIES);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  /** @throws ApiError 429 once the client's budget for this scope and window is spent */
  async count(scope: string, ip: string): Promise<void> {
    const key = `${scope}:${clientNetwork(ip, this.config.throttling.ipv6PrefixLength)}`;
    const now = this.clock.now().getTime();
    const windowStart = now - (now % RATE_LIMIT_WINDOW_MS);
    const remembered = this.refusals.remaining(key, now);
    if (remembered > 0) this.refuse(scope, remembered);

    const [{ hits }] = (await this.dataSource.query(
      `INSERT INTO rate_limit_counters AS counter (key, window_start, hits) VALUES ($1, $2, 1)
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN counter.window_start = EXCLUDED.window_start THEN counter.hits + 1 ELSE 1 END,
         window_start = EXCLUDED.window_start
       RETURNING hits`,
      [key, new Date(windowStart)],
    )) as Array<{ hits: number }>;
    if (hits > this.config.throttling.ipRequestsPerMinute) {
      this.refusals.remember(key, windowStart + RATE_LIMIT_WINDOW_MS, now);
      this.refuse(scope, windowStart + RATE_LIMIT_WINDOW_MS - now);
    }
  }

  private refuse(scope: string, retryAfterMs: number): never {
    this.metrics.rateLimited.inc({ throttle: `ip:${scope}` });
    throw ApiError.rateLimited(retryAfterMs / 1000);
  }
}
