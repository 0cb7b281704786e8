import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, MoreThan } from 'typeorm';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Session } from './session.entity.js';

/**
 * Revoked sessions whose access tokens may still be unexpired, held in memory so the guard can
 * refuse those tokens without a database query. An entry is dropped once every access token of
 * its session has expired (revocation time + token lifetime + clock skew).
 */
@Injectable()
export class RevocationList implements OnModuleInit {
  /** Session id -> epoch ms after which no token of that session can still verify. */
  private readonly revokedSessions = new Map<string, number>();
  private lastPrunedAt = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    const since = new Date(this.clock.now().getTime() - this.relevanceMs());
    const revoked = await this.dataSource.getRepository(Session).find({
      select: { id: true, revokedAt: true },
      where: { revokedAt: MoreThan(since) },
    });
    for (const session of revoked) this.add(session.id, session.revokedAt!);
  }

  isRevoked(user: AuthenticatedUser): boolean {
    return this.revokedSessions.has(user.sessionId);
  }

  add(sessionId: string, revokedAt: Date): void {
    this.prune();
    this.revokedSessions.set(sessionId, revokedAt.getTime() + this.relevanceMs());
  }

  get size(): number {
    return this.revokedSessions.size;
  }

  private relevanceMs(): number {
    const { accessTokenTtlSeconds, clockSkewSeconds } = this.config.tokens;
    return (accessTokenTtlSeconds + clockSkewSeconds) * 1000;
  }

  /** At most once a minute, so revoking many sessions at once stays linear. */
  private prune(): void {
    const now = this.clock.now().getTime();
    if (now - this.lastPrunedAt < 60_000) return;
    this.lastPrunedAt = now;
    for (const [sessionId, irrelevantAfter] of this.revokedSessions) {
      if (irrelevantAfter < now) this.revokedSessions.delete(sessionId);
    }
  }
}
