import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { User } from '../users/user.entity.js';
import { RevocationList, type RevocationEvent } from './revocation-list.service.js';
import { Session, type SessionRevocationReason } from './session.entity.js';

/**
 * The revocations of one transaction. Each is written with the transaction, announced to every
 * replica with it (NOTIFY is delivered on commit, and only then), and applied to this replica's
 * list right after the commit, before the caller answers.
 */
export class RevocationBatch {
  private readonly events: RevocationEvent[] = [];

  constructor(
    readonly manager: EntityManager,
    readonly at: Date,
    private readonly metrics: MetricsService,
  ) {}

  /** @returns whether the session was live until now */
  async revokeSession(sessionId: string, reason: SessionRevocationReason): Promise<boolean> {
    const result = await this.manager.update(Session, { id: sessionId, revokedAt: IsNull() }, { revokedAt: this.at, revokedReason: reason });
    if (!result.affected) return false;
    this.metrics.revocations.inc({ reason });
    this.events.push({ kind: 'session', id: sessionId, at: this.at.getTime() });
    return true;
  }

  /**
   * Ends every live session of the user, each announced by id, and voids all their access tokens.
   * The caller holds the user's row (UsersRepository.lockWithActiveAdmins), so no login can open a
   * session beside it.
   * @returns the sessions ended
   */
  async revokeAllSessionsOf(userId: string, reason: SessionRevocationReason): Promise<number> {
    const ended = await this.revokeSessionsOf(userId, reason);
    await this.voidAccessTokensOf(userId);
    return ended;
  }

  /**
   * Ends every live session of the user but `keepSessionId` (the caller's), each announced by id,
   * so their access tokens are refused by `sid`. The generation is NOT raised: that would void the
   * caller's own access token too. The caller holds the user's row FOR UPDATE, so a login racing
   * this either opened its session before (and it is ended here) or opens it after, under the
   * state this transaction leaves (see SessionsRepository.open).
   * @returns the sessions ended
   */
  async revokeOtherSessionsOf(userId: string, keepSessionId: string, reason: SessionRevocationReason): Promise<number> {
    return this.revokeSessionsOf(userId, reason, keepSessionId);
  }

  private async revokeSessionsOf(userId: string, reason: SessionRevocationReason, keepSessionId?: string): Promise<number> {
    const query = this.manager
      .createQueryBuilder()
      .update(Session)
      .set({ revokedAt: this.at, revokedReason: reason })
      .where({ userId, revokedAt: IsNull() });
    if (keepSessionId !== undefined) query.andWhere('id <> :keepSessionId', { keepSessionId });
    const result = await query.returning('id').execute();
    const ended = (result.raw as Array<{ id: string }>).map((row) => row.id);
    this.metrics.revocations.inc({ reason }, ended.length);
    for (const id of ended) this.events.push({ kind: 'session', id, at: this.at.getTime() });
    return ended.length;
  }

  /**
   * Voids every access token the user holds by raising their token generation; their sessions go
   * on, and the next refresh issues a token of the new generation (with the user's new roles).
   */
  async voidAccessTokensOf(userId: string): Promise<void> {
    const result = await this.manager
      .createQueryBuilder()
      .update(User)
      .set({ tokenGeneration: () => 'token_generation + 1', tokensRevokedAt: this.at })
      .where({ id: userId })
      .returning('token_generation')
      .execute();
    const [row] = result.raw as Array<{ token_generation: number }>;
    if (row !== undefined) this.events.push({ kind: 'user', id: userId, generation: row.token_generation, at: this.at.getTime() });
  }

  /**
   * Voids every access token of a service client by raising its token generation (disabling,
   * deleting, or changing what its tokens say).
   * @param id the client's row id (service_clients.id); its tokens are announced by client_id, their `sub`
   */
  async voidClientTokens(id: string): Promise<void> {
    const [row] = (await this.manager.query(
      `UPDATE service_clients SET token_generation = token_generation + 1, tokens_revoked_at = $2 WHERE id = $1
       RETURNING client_id AS "clientId", token_generation AS "tokenGeneration"`,
      [id, this.at],
    )) as [Array<{ clientId: string; tokenGeneration: number }>, number];
    const [updated] = row;
    if (updated !== undefined) this.events.push({ kind: 'client', id: updated.clientId, generation: updated.tokenGeneration, at: this.at.getTime() });
  }

  /**
   * Refuses one service-client access token (RFC 7009), kept until it expires.
   * @returns whether it was live until now
   */
  async revokeClientToken(jti: string, clientId: string, expiresAt: Date): Promise<boolean> {
    const rows = (await this.manager.query(
      `INSERT INTO revoked_client_tokens (jti, client_id, revoked_at, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (jti) DO NOTHING RETURNING jti`,
      [jti, clientId, this.at, expiresAt],
    )) as unknown[];
    if (rows.length === 0) return false;
    this.metrics.revocations.inc({ reason: 'client_token_revoked' });
    this.events.push({ kind: 'token', id: jti, at: this.at.getTime() });
    return true;
  }

  /** @internal Revocations.transaction announces and applies these. */
  get revocations(): readonly RevocationEvent[] {
    return this.events;
  }
}

@Injectable()
export class Revocations {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly list: RevocationList,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  /** Runs `work` in a transaction whose revocations are in force on this replica when this resolves. */
  async transaction<T>(work: (revoke: RevocationBatch) => Promise<T>): Promise<T> {
    let batch: RevocationBatch | undefined;
    const result = await this.dataSource.transaction(async (manager) => {
      batch = new RevocationBatch(manager, this.clock.now(), this.metrics);
      const outcome = await work(batch);
      await this.list.publish(manager, batch.revocations);
      return outcome;
    });
    for (const event of batch!.revocations) this.list.apply(event);
    return result;
  }
}
