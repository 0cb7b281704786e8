import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { ClientContext } from '../common/client-context.js';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { TokenSubject } from '../users/token-subject.js';
import { generateRefreshToken, hashRefreshToken, openReplay, REFRESH_TOKEN_PATTERN, sealReplay } from './refresh-token-crypto.js';
import { Revocations, type RevocationBatch } from './revocations.js';
import { isGraceRetry, refreshTokenExpiry, type RefreshLifetimes } from './rotation-policy.js';
import type { SessionRevocationReason } from './session.entity.js';
import { SessionsRepository, type LockedRefreshToken, type Rotation } from './sessions.repository.js';

export interface IssuedRefreshToken {
  readonly user: TokenSubject;
  readonly sessionId: string;
  readonly refreshToken: string;
  /** Seconds until the refresh token expires unused. */
  readonly refreshExpiresIn: number;
  /** RFC 8176 methods the session's login proved (`pwd`, `otp`). */
  readonly amr: readonly string[];
}

/** Builds the client's response (access token included) for a refresh token just issued. */
export type IssueTokens<T extends object> = (issued: IssuedRefreshToken) => T;

type RotationOutcome<T> = { kind: 'rotated' | 'replayed'; response: T } | { kind: 'reused' | 'invalid' };

/** Whether a revocation by id found its session, and whether it was still live. */
export type SessionRevocation = 'revoked' | 'already_ended' | 'unknown';

const REFRESH_OUTCOME_LABELS = { rotated: 'rotated', replayed: 'grace_retry', reused: 'reuse_detected', invalid: 'refused' } as const;

const secondsBetween = (from: Date, to: Date): number => Math.floor((to.getTime() - from.getTime()) / 1000);

export const isSessionLive = (session: { revokedAt: Date | null; expiresAt: Date }, userDisabled: boolean, now: Date): boolean =>
  session.revokedAt === null && session.expiresAt > now && !userDisabled;

/** Sessions and their refresh-token families: opening, rotation with reuse detection, and ending them. */
@Injectable()
export class SessionsService {
  private readonly lifetimes: RefreshLifetimes;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly revocations: Revocations,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {
    this.lifetimes = {
      idleTtlSeconds: config.tokens.refreshIdleTtlSeconds,
      reuseGraceSeconds: config.tokens.refreshReuseGraceSeconds,
    };
  }

  /**
   * Opens a session for a user who just proved who they are, with its first refresh token.
   * @returns undefined when the user was changed (roles, disabled, all sessions ended) after
   *   `user` was read: the tokens signed from it are discarded and the caller reads the user again
   */
  async start<T extends object>(
    user: TokenSubject,
    client: ClientContext,
    issue: IssueTokens<T>,
    options: { passwordHash?: string; amr?: readonly string[] } = {},
  ): Promise<T | undefined> {
    const now = this.clock.now();
    const sessionId = randomUUID();
    const expiresAt = new Date(now.getTime() + this.config.tokens.refreshAbsoluteTtlSeconds * 1000);
    const refreshToken = generateRefreshToken();
    const refreshExpiresAt = refreshTokenExpiry(now, expiresAt, this.lifetimes);
    const amr = options.amr ?? ['pwd'];
    const response = issue({ user, sessionId, refreshToken, refreshExpiresIn: secondsBetween(now, refreshExpiresAt), amr });
    const opened = await this.repository.open({
      sessionId,
      userId: user.id,
      tokenGeneration: user.tokenGeneration,
      passwordHash: options.passwordHash,
      at: now,
      expiresAt,
      client,
      refreshTokenHash: hashRefreshToken(refreshToken),
      refreshExpiresAt,
      amr,
      audit: { type: 'login_succeeded', userId: user.id, sessionId, client },
    });
    return opened ? response : undefined;
  }

  /**
   * Spends a refresh token and issues its successor. Of concurrent presentations exactly one
   * rotates; the others find it spent and fall under the grace rule (same response) or reuse
   * detection (session revoked).
   * @throws ApiError 401 invalid_grant
   */
  async rotate<T extends object>(presented: string, client: ClientContext, issue: IssueTokens<T>): Promise<T> {
    if (!REFRESH_TOKEN_PATTERN.test(presented)) throw ApiError.refreshTokenRefused();
    const tokenHash = hashRefreshToken(presented);
    const outcome =
      (await this.rotateOptimistically(presented, tokenHash, issue)) ?? (await this.rotateUnderLock(presented, tokenHash, client, issue));
    this.metrics.refreshes.inc({ outcome: REFRESH_OUTCOME_LABELS[outcome.kind] });
    if (outcome.kind === 'rotated' || outcome.kind === 'replayed') return outcome.response;
    throw ApiError.refreshTokenRefused();
  }

  /**
   * The common case in two statements and no transaction: a read that locks nothing, the new
   * tokens signed, then the write that spends the token only if nothing it read has changed (see
   * SessionsRepository.rotate). A spent or expired token, or a write that found something changed
   * (a concurrent presentation, revocation or admin change), is left to rotateUnderLock: undefined.
   */
  private async rotateOptimistically<T extends object>(
    presented: string,
    tokenHash: Buffer,
    issue: IssueTokens<T>,
  ): Promise<RotationOutcome<T> | undefined> {
    const now = this.clock.now();
    const token = await this.repository.readPresented(tokenHash);
    if (token === undefined) return { kind: 'invalid' };
    // Spent, or past a limit: a concurrent rotation may have spent it meanwhile, and only the
    // locked path tells a grace retry or a reuse from a plain refusal.
    if (token.usedAt !== null || !this.isRotatable(token, now)) return undefined;
    const { response, rotation } = this.successorOf(token, presented, now, issue);
    return (await this.repository.rotate(rotation)) ? { kind: 'rotated', response } : undefined;
  }

  /**
   * The token's row locked for the whole transaction (and its user in KEY SHARE): decides what the
   * optimistic path could not, a spent token's grace retry or reuse above all.
   */
  private async rotateUnderLock<T extends object>(
    presented: string,
    tokenHash: Buffer,
    client: ClientContext,
    issue: IssueTokens<T>,
  ): Promise<RotationOutcome<T>> {
    return this.revocations.transaction(async (revoke): Promise<RotationOutcome<T>> => {
      const { manager, at: now } = revoke;
      const token = await this.repository.lockPresented(manager, tokenHash);
      if (token === undefined) return { kind: 'invalid' };
      if (token.usedAt !== null) {
        if (!isSessionLive({ revokedAt: token.sessionRevokedAt, expiresAt: token.sessionExpiresAt }, token.disabled, now)) return { kind: 'invalid' };
        return this.retryOrReuse<T>(revoke, token, presented, client);
      }
      if (!this.isRotatable(token, now)) return { kind: 'invalid' };
      const { response, rotation } = this.successorOf(token, presented, now, issue);
      return (await this.repository.rotate(rotation, manager)) ? { kind: 'rotated', response } : { kind: 'invalid' };
    });
  }

  /** An unspent token may rotate while it and its session live and its user is enabled. */
  private isRotatable(token: LockedRefreshToken, now: Date): boolean {
    return isSessionLive({ revokedAt: token.sessionRevokedAt, expiresAt: token.sessionExpiresAt }, token.disabled, now) && token.expiresAt > now;
  }

  /** The successor token and the client's response, signed now; the response sealed for a grace retry. */
  private successorOf<T extends object>(
    token: LockedRefreshToken,
    presented: string,
    now: Date,
    issue: IssueTokens<T>,
  ): { response: T; rotation: Rotation } {
    const successor = generateRefreshToken();
    const successorExpiresAt = refreshTokenExpiry(now, token.sessionExpiresAt, this.lifetimes);
    const user = {
      id: token.userId,
      email: token.email,
      roles: token.roles,
      tokenGeneration: token.tokenGeneration,
      emailVerified: token.emailVerified,
    };
    const response = issue({
      user,
      sessionId: token.sessionId,
      refreshToken: successor,
      refreshExpiresIn: secondsBetween(now, successorExpiresAt),
      amr: token.amr,
    });
    return {
      response,
      rotation: { token, at: now, sealedReplay: sealReplay(presented, response), successorHash: hashRefreshToken(successor), successorExpiresAt },
    };
  }

  /** Ends the session a refresh token belongs to; unknown tokens are ignored (idempotent logout, RFC 7009). */
  async revokeByRefreshToken(presented: string, reason: SessionRevocationReason, client: ClientContext): Promise<void> {
    if (!REFRESH_TOKEN_PATTERN.test(presented)) return;
    const session = await this.repository.sessionOfToken(hashRefreshToken(presented));
    if (session !== undefined) await this.revocations.transaction((revoke) => this.revokeSession(revoke, session.id, reason, client));
  }

  /** Whether the session may still be used: not revoked, not past its absolute end. */
  isLive(manager: EntityManager, sessionId: string): Promise<boolean> {
    return this.repository.isLive(manager, sessionId, this.clock.now());
  }

  /** Ends one session by id within the caller's revocation transaction, with its audit event. */
  async revokeSession(
    revoke: RevocationBatch,
    sessionId: string,
    reason: SessionRevocationReason,
    client: ClientContext,
    actorId?: string,
  ): Promise<SessionRevocation> {
    const session = await this.repository.findSession(revoke.manager, sessionId);
    if (session === null) return 'unknown';
    if (!(await revoke.revokeSession(session.id, reason))) return 'already_ended';
    await this.audit.record(
      { type: 'session_revoked', userId: session.userId, sessionId, client, details: { reason, by: actorId ?? null } },
      revoke.manager,
    );
    return 'revoked';
  }

  /**
   * A spent token presented again. Within the grace window, while its successor is still unused,
   * it is a client retry (say, a lost response) and gets the sealed original response back.
   * Otherwise two parties hold the family, one of them an attacker: the session ends.
   */
  private async retryOrReuse<T>(
    revoke: RevocationBatch,
    token: LockedRefreshToken,
    presented: string,
    client: ClientContext,
  ): Promise<RotationOutcome<T>> {
    const { manager, at: now } = revoke;
    const successor = await this.repository.findSuccessor(manager, token.id);
    const successorUsed = successor === null || successor.usedAt !== null;
    if (isGraceRetry({ usedAt: token.usedAt!, successorUsed }, now, this.lifetimes) && token.rotationReplay !== null) {
      const response = openReplay<T>(presented, token.rotationReplay);
      if (response !== undefined) return { kind: 'replayed', response };
    }
    await revoke.revokeSession(token.sessionId, 'refresh_token_reuse');
    await this.audit.record({ type: 'refresh_reuse_detected', userId: token.userId, sessionId: token.sessionId, client }, manager);
    return { kind: 'reused' };
  }
}
