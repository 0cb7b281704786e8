import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { User } from '../users/user.entity.js';
import { RefreshToken } from './refresh-token.entity.js';
import {
  generateRefreshToken,
  hashRefreshToken,
  openReplay,
  REFRESH_TOKEN_PATTERN,
  sealReplay,
} from './refresh-token-crypto.js';
import { RevocationList } from './revocation-list.service.js';
import { isGraceRetry, refreshTokenExpiry, type RefreshLifetimes } from './rotation-policy.js';
import { Session, type SessionRevocationReason } from './session.entity.js';

export interface ClientContext {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface IssuedRefreshToken {
  readonly user: User;
  readonly sessionId: string;
  readonly refreshToken: string;
  /** Seconds until the refresh token expires unused. */
  readonly refreshExpiresIn: number;
}

/** Builds the client's response (access token included) for a refresh token just issued. */
export type IssueTokens<T extends object> = (issued: IssuedRefreshToken) => T;

type RotationOutcome<T> =
  | { kind: 'rotated' | 'replayed'; response: T }
  | { kind: 'reused'; sessionId: string; revokedAt: Date }
  | { kind: 'invalid' };

export function invalidGrant(): ApiError {
  return new ApiError(401, 'invalid_grant', 'Invalid, expired or revoked refresh token');
}

const USER_AGENT_MAX_LENGTH = 512;

const secondsBetween = (from: Date, to: Date): number => Math.floor((to.getTime() - from.getTime()) / 1000);

@Injectable()
export class SessionsService {
  private readonly lifetimes: RefreshLifetimes;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly revocations: RevocationList,
  ) {
    this.lifetimes = {
      idleTtlSeconds: config.tokens.refreshIdleTtlSeconds,
      reuseGraceSeconds: config.tokens.refreshReuseGraceSeconds,
    };
  }

  /** Opens a session for a user who just proved who they are, with its first refresh token. */
  async start<T extends object>(user: User, client: ClientContext, issue: IssueTokens<T>): Promise<T> {
    const now = this.clock.now();
    const session: Session = Object.assign(new Session(), {
      id: randomUUID(),
      userId: user.id,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + this.config.tokens.refreshAbsoluteTtlSeconds * 1000),
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) ?? null,
      revokedAt: null,
      revokedReason: null,
    });
    const refreshToken = generateRefreshToken();
    const refreshExpiresAt = refreshTokenExpiry(now, session.expiresAt, this.lifetimes);
    const response = issue({ user, sessionId: session.id, refreshToken, refreshExpiresIn: secondsBetween(now, refreshExpiresAt) });

    await this.dataSource.transaction(async (manager) => {
      await manager.insert(Session, session);
      await manager.insert(RefreshToken, this.newRefreshToken(session.id, null, refreshToken, now, refreshExpiresAt));
    });
    return response;
  }

  /**
   * Spends a refresh token and issues its successor. The token's row is locked for the whole
   * transaction, so of concurrent presentations exactly one rotates; the others find it spent and
   * fall under the grace rule (same response) or reuse detection (session revoked).
   * @throws ApiError 401 invalid_grant
   */
  async rotate<T extends object>(presented: string, issue: IssueTokens<T>): Promise<T> {
    if (!REFRESH_TOKEN_PATTERN.test(presented)) throw invalidGrant();
    const tokenHash = hashRefreshToken(presented);
    const now = this.clock.now();

    const outcome = await this.dataSource.transaction(async (manager): Promise<RotationOutcome<T>> => {
      const token = await manager
        .createQueryBuilder(RefreshToken, 'token')
        .innerJoinAndSelect('token.session', 'session')
        .innerJoinAndSelect('session.user', 'user')
        .where('token.tokenHash = :tokenHash', { tokenHash })
        .setLock('pessimistic_write', undefined, ['token'])
        .getOne();
      if (token === null) return { kind: 'invalid' };
      const { session } = token;
      if (session.revokedAt !== null || session.expiresAt <= now || session.user.disabled) return { kind: 'invalid' };
      if (token.usedAt !== null) return this.retryOrReuse<T>(manager, token, presented, now);
      if (token.expiresAt <= now) return { kind: 'invalid' };

      const successor = generateRefreshToken();
      const refreshExpiresAt = refreshTokenExpiry(now, session.expiresAt, this.lifetimes);
      const response = issue({
        user: session.user,
        sessionId: session.id,
        refreshToken: successor,
        refreshExpiresIn: secondsBetween(now, refreshExpiresAt),
      });
      await manager.update(RefreshToken, { id: token.id }, { usedAt: now, rotationReplay: sealReplay(presented, response) });
      await manager.insert(RefreshToken, this.newRefreshToken(session.id, token.id, successor, now, refreshExpiresAt));
      await manager.update(Session, { id: session.id }, { lastUsedAt: now });
      return { kind: 'rotated', response };
    });

    switch (outcome.kind) {
      case 'rotated':
      case 'replayed':
        return outcome.response;
      case 'reused':
        this.revocations.add(outcome.sessionId, outcome.revokedAt);
        throw invalidGrant();
      case 'invalid':
        throw invalidGrant();
    }
  }

  /** Ends the session a refresh token belongs to; unknown tokens are ignored (idempotent logout). */
  async revokeByRefreshToken(presented: string, reason: SessionRevocationReason): Promise<void> {
    if (!REFRESH_TOKEN_PATTERN.test(presented)) return;
    const token = await this.dataSource.getRepository(RefreshToken).findOne({
      select: { id: true, sessionId: true },
      where: { tokenHash: hashRefreshToken(presented) },
    });
    if (token !== null) await this.revoke(token.sessionId, reason);
  }

  /** Marks the session revoked (once) and refuses its access tokens from now on. */
  async revoke(sessionId: string, reason: SessionRevocationReason): Promise<void> {
    const now = this.clock.now();
    await this.dataSource.getRepository(Session).update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: now, revokedReason: reason });
    this.revocations.add(sessionId, now);
  }

  /**
   * A spent token presented again. Within the grace window, while its successor is still unused,
   * it is a client retry (say, a lost response) and gets the sealed original response back.
   * Otherwise two parties hold the family, one of them an attacker: the session ends.
   */
  private async retryOrReuse<T>(
    manager: EntityManager,
    token: RefreshToken,
    presented: string,
    now: Date,
  ): Promise<RotationOutcome<T>> {
    const successor = await manager.findOne(RefreshToken, { select: { id: true, usedAt: true }, where: { parentId: token.id } });
    const successorUsed = successor === null || successor.usedAt !== null;
    if (isGraceRetry({ usedAt: token.usedAt!, successorUsed }, now, this.lifetimes) && token.rotationReplay !== null) {
      const response = openReplay<T>(presented, token.rotationReplay);
      if (response !== undefined) return { kind: 'replayed', response };
    }
    await manager.update(Session, { id: token.sessionId }, { revokedAt: now, revokedReason: 'refresh_token_reuse' });
    return { kind: 'reused', sessionId: token.sessionId, revokedAt: now };
  }

  private newRefreshToken(sessionId: string, parentId: string | null, token: string, now: Date, expiresAt: Date): RefreshToken {
    return Object.assign(new RefreshToken(), {
      id: randomUUID(),
      sessionId,
      parentId,
      tokenHash: hashRefreshToken(token),
      issuedAt: now,
      expiresAt,
      usedAt: null,
      rotationReplay: null,
    });
  }
}
