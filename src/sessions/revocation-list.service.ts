import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, MoreThan, type EntityManager } from 'typeorm';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { Clock } from '../common/clock.js';
import { repeatInBackground } from '../common/repeat.js';
import { prepareDocument, type PreparedDocument } from '../common/prepared-document.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RevokedClientToken, ServiceClient } from '../clients/service-client.entity.js';
import { User } from '../users/user.entity.js';
import { RevocationListener, type ListenerState } from './revocation-listener.js';
import { Session } from './session.entity.js';

export const REVOCATION_CHANNEL = 'auth_revocation';
export const LISTENER_APPLICATION_NAME = 'auth-service revocation listener';
/** While the listener is down, the list is reloaded this often, so revocations still arrive within about a second. */
export const DEGRADED_RESYNC_INTERVAL_MS = 1000;

/**
 * A revoked session; a user, or a service client (by its client_id, the `sub` of its tokens),
 * whose access tokens of an older generation no longer count; or one service-client token revoked
 * on its own (by `jti`). `at` (epoch ms, the revoking replica's clock) only bounds how long the
 * entry must be kept.
 */
export type RevocationEvent =
  | { readonly kind: 'session'; readonly id: string; readonly at: number }
  | { readonly kind: 'user' | 'client'; readonly id: string; readonly generation: number; readonly at: number }
  | { readonly kind: 'token'; readonly id: string; readonly at: number };

/** What the list is asked about a token: its subject and generation, and its session (user tokens) or jti. */
export interface RevocationSubject {
  readonly id: string;
  readonly tokenGeneration: number;
  readonly sessionId?: string;
  readonly tokenId?: string;
}

function parseEvent(payload: string | undefined): RevocationEvent | undefined {
  try {
    const event = JSON.parse(payload ?? '') as Record<string, unknown>;
    if (typeof event.id !== 'string' || typeof event.at !== 'number') return undefined;
    if (event.kind === 'session' || event.kind === 'token') return { kind: event.kind, id: event.id, at: event.at };
    if ((event.kind === 'user' || event.kind === 'client') && Number.isInteger(event.generation)) {
      return { kind: event.kind, id: event.id, generation: event.generation as number, at: event.at };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * The revocation feed (GET /.well-known/revocations) for verifiers outside this service: what the
 * list holds, with a version that changes whenever its content does.
 */
export interface RevocationFeed extends PreparedDocument {
  readonly version: number;
}

/**
 * What the guard needs to refuse revoked access tokens without touching the database: revoked
 * sessions, and per user the oldest token generation that still counts. The source of truth is
 * Postgres (sessions.revoked_at, users.token_generation); each replica holds a copy that is
 *  - loaded at start,
 *  - updated by LISTEN/NOTIFY within milliseconds of a revocation on any replica (the connection
 *    is kept by RevocationListener, on DATABASE_DIRECT_URL),
 *  - reloaded every REVOCATION_RESYNC_INTERVAL and after a listener reconnect, in case a
 *    notification was lost (the embedded database does not deliver them across connections),
 *    and every DEGRADED_RESYNC_INTERVAL_MS while the listener is down.
 * Revocations are never undone, so loading merges; entries leave once every access token they
 * could refuse has expired.
 */
@Injectable()
export class RevocationList implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RevocationList.name);
  /** Session id -> epoch ms after which no token of that session can still verify. */
  private readonly revokedSessions = new Map<string, number>();
  /**
   * Per token subject (a user id, or a service client's client_id: both are the `sub` of their
   * tokens), the oldest generation that still counts. One map, so the feed's `generations` and
   * every verifier that applies it cover service clients without knowing about them.
   */
  private readonly subjectGenerations = new Map<string, { generation: number; irrelevantAfter: number }>();
  /** jti of service-client tokens revoked on their own -> epoch ms after which it cannot verify anyway. */
  private readonly revokedTokens = new Map<string, number>();
  private version = 0;
  private feed: RevocationFeed | undefined;
  private listener: RevocationListener | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private degradedResyncTimer: NodeJS.Timeout | undefined;
  private degradedResyncRunning = false;
  private degradedResyncFailing = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {
    metrics.observeGauge('auth_revocation_list_size', 'Revoked sessions and user token generations held in memory', () => this.size);
    metrics.observeGauge(
      'auth_revocation_listener_up',
      'Whether the LISTEN connection for revocations is up and its heartbeat answered (0: reconnecting, revocations arrive by the 1 s resync)',
      () => (this.listenerState === 'listening' ? 1 : 0),
    );
  }

  async onModuleInit(): Promise<void> {
    // Listening first, then loading (the listener's onConnected), so nothing falls in between.
    await this.startListener();
    this.resyncTimer = repeatInBackground(
      this.config.tokens.revocationResyncSeconds * 1000,
      () => this.resync(),
      this.logger,
      'Revocation resync failed',
    );
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.resyncTimer);
    await this.listener?.stop();
    this.stopDegradedResync();
  }

  /** `listening`, or `down` while the listener reconnects (revocations then arrive by the 1 s resync). */
  get listenerState(): ListenerState {
    return this.listener?.state ?? 'down';
  }

  /** The listening connection's server pid (pg_stat_activity.pid), for diagnostics and tests. */
  get listenerBackendPid(): number | undefined {
    return this.listener?.backendPid;
  }

  /** Clock-free: a session id or jti and two generation numbers, whatever any replica's clock says. */
  isRevoked(token: RevocationSubject | Pick<AuthenticatedUser, 'id' | 'sessionId' | 'tokenGeneration'>): boolean {
    if (token.sessionId !== undefined && this.revokedSessions.has(token.sessionId)) return true;
    if ('tokenId' in token && token.tokenId !== undefined && this.revokedTokens.has(token.tokenId)) return true;
    const current = this.subjectGenerations.get(token.id);
    return current !== undefined && token.tokenGeneration < current.generation;
  }

  /**
   * Announces a revocation from inside the transaction that records it: Postgres delivers the
   * notification to every replica when, and only if, that transaction commits.
   */
  async publish(manager: EntityManager, events: readonly RevocationEvent[]): Promise<void> {
    if (events.length === 0) return;
    await manager.query('SELECT pg_notify($1, event) FROM unnest($2::text[]) AS event', [
      REVOCATION_CHANNEL,
      events.map((event) => JSON.stringify(event)),
    ]);
  }

  /** Takes a revocation into this replica's list (its own, at once; others', as notified). */
  apply(event: RevocationEvent): void {
    const irrelevantAfter = event.at + this.relevanceMs();
    if (irrelevantAfter < this.clock.now().getTime()) return;
    if (event.kind === 'session' || event.kind === 'token') {
      const entries = event.kind === 'session' ? this.revokedSessions : this.revokedTokens;
      if (!entries.has(event.id)) this.version++;
      entries.set(event.id, irrelevantAfter);
      return;
    }
    const known = this.subjectGenerations.get(event.id);
    if (known === undefined || known.generation < event.generation) {
      this.subjectGenerations.set(event.id, { generation: event.generation, irrelevantAfter });
      this.version++;
    }
  }

  /**
   * Revoked session ids, per token subject (user id or service client id) the oldest token
   * generation (`gen` claim) that still counts, and the jti of service-client tokens revoked on
   * their own; the body is built once per change.
   */
  publishedFeed(): RevocationFeed {
    if (this.feed?.version !== this.version) {
      const body = JSON.stringify({
        version: this.version,
        sessions: [...this.revokedSessions.keys()],
        generations: Object.fromEntries([...this.subjectGenerations].map(([id, current]) => [id, current.generation])),
        tokens: [...this.revokedTokens.keys()],
      });
      // The ETag comes from the content, not the counter: replicas behind one address count differently.
      this.feed = { version: this.version, ...prepareDocument(body) };
    }
    return this.feed;
  }

  get size(): number {
    return this.revokedSessions.size + this.subjectGenerations.size + this.revokedTokens.size;
  }

  /** Merges every revocation that may still matter from the database, and drops expired entries. */
  async resync(): Promise<void> {
    const since = new Date(this.clock.now().getTime() - this.relevanceMs());
    const [sessions, users, clients, tokens] = await Promise.all([
      this.dataSource.getRepository(Session).find({ select: { id: true, revokedAt: true }, where: { revokedAt: MoreThan(since) } }),
      this.dataSource.getRepository(User).find({
        select: { id: true, tokenGeneration: true, tokensRevokedAt: true },
        where: { tokensRevokedAt: MoreThan(since) },
      }),
      this.dataSource.getRepository(ServiceClient).find({
        select: { id: true, clientId: true, tokenGeneration: true, tokensRevokedAt: true },
        where: { tokensRevokedAt: MoreThan(since) },
      }),
      this.dataSource.getRepository(RevokedClientToken).find({ select: { jti: true, revokedAt: true }, where: { revokedAt: MoreThan(since) } }),
    ]);
    for (const session of sessions) this.apply({ kind: 'session', id: session.id, at: session.revokedAt!.getTime() });
    for (const user of users) this.apply({ kind: 'user', id: user.id, generation: user.tokenGeneration, at: user.tokensRevokedAt!.getTime() });
    for (const client of clients) {
      this.apply({ kind: 'client', id: client.clientId, generation: client.tokenGeneration, at: client.tokensRevokedAt!.getTime() });
    }
    for (const token of tokens) this.apply({ kind: 'token', id: token.jti, at: token.revokedAt.getTime() });
    this.prune();
  }

  /**
   * How long an entry can still refuse something. Every token it must refuse was signed before the
   * revocation committed (issuance locks the rows the revocation writes), so it expires within an
   * access-token lifetime of `at`; each clock involved (the revoker's that dated `at`, the
   * issuer's that dated the token, the verifier's, and the verifier's tolerance) may be off by up
   * to the tolerated skew.
   */
  private relevanceMs(): number {
    const { accessTokenTtlSeconds, clockSkewSeconds } = this.config.tokens;
    return (accessTokenTtlSeconds + 4 * clockSkewSeconds + 1) * 1000;
  }

  private prune(): void {
    const now = this.clock.now().getTime();
    const sizeBefore = this.size;
    for (const [id, irrelevantAfter] of this.revokedSessions) if (irrelevantAfter < now) this.revokedSessions.delete(id);
    for (const [id, current] of this.subjectGenerations) if (current.irrelevantAfter < now) this.subjectGenerations.delete(id);
    for (const [id, irrelevantAfter] of this.revokedTokens) if (irrelevantAfter < now) this.revokedTokens.delete(id);
    if (this.size !== sizeBefore) this.version++;
  }

  private async startListener(): Promise<void> {
    const url = this.config.database.directUrl ?? this.config.database.url;
    if (url === undefined) throw new Error('database.url must be resolved before the app starts');
    this.listener = new RevocationListener({
      url,
      channel: REVOCATION_CHANNEL,
      applicationName: LISTENER_APPLICATION_NAME,
      logger: this.logger,
      onPayload: (payload) => {
        const event = parseEvent(payload);
        if (event !== undefined) this.apply(event);
      },
      // Whatever was announced while no one listened is in the database.
      onConnected: async () => {
        await this.resync();
        this.stopDegradedResync();
      },
      onStateChange: (state) => {
        if (state === 'down') this.startDegradedResync();
      },
      onLost: (cause) => this.metrics.revocationListenerLost.inc({ cause }),
    });
    await this.listener.start();
  }

  /** While nobody listens, reload every second; failures are logged once per streak, not per second. */
  private startDegradedResync(): void {
    if (this.degradedResyncTimer !== undefined) return;
    this.degradedResyncTimer = setInterval(() => {
      if (this.degradedResyncRunning) return;
      this.degradedResyncRunning = true;
      // A resync that started with LISTEN in place covers everything the listener missed.
      const listeningAtStart = this.listenerState === 'listening';
      this.resync()
        .then(() => {
          if (this.degradedResyncFailing) this.logger.log('Revocation resync works again');
          this.degradedResyncFailing = false;
          // The listener is back but its own resync had failed: this one did its job.
          if (listeningAtStart) this.stopDegradedResync();
        })
        .catch((error: unknown) => {
          if (!this.degradedResyncFailing) this.logger.warn(`Revocation resync failed, retrying every second: ${String(error)}`);
          this.degradedResyncFailing = true;
        })
        .finally(() => (this.degradedResyncRunning = false));
    }, DEGRADED_RESYNC_INTERVAL_MS);
    this.degradedResyncTimer.unref();
  }

  private stopDegradedResync(): void {
    clearInterval(this.degradedResyncTimer);
    this.degradedResyncTimer = undefined;
    this.degradedResyncFailing = false;
  }
}
