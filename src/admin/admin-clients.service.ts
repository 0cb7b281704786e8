import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { JSONWebKeySet } from 'jose';
import { AuditService, type AuditRecord } from '../audit/audit.service.js';
import { generateClientSecret, hashClientSecret } from '../clients/client-secrets.js';
import { InvalidKeySet, publicKeySet } from '../clients/client-keys.js';
import { ClientsRepository } from '../clients/clients.repository.js';
import { ServiceClient, type ClientAuthMethod } from '../clients/service-client.entity.js';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import type { ClientContext } from '../common/client-context.js';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import type { Page } from '../common/pagination.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Revocations, type RevocationBatch } from '../sessions/revocations.js';
import { UsersRepository } from '../users/users.repository.js';
import { AdminActor } from './admin-actor.js';
import { toClientResponse, type ClientResponseDto, type CreatedClientResponseDto, type RotatedSecretResponseDto } from './client-response.js';
import { DEFAULT_PREVIOUS_SECRET_TTL } from './dto/client.dto.js';

export interface NewClient {
  readonly name: string;
  readonly scopes?: string[];
  readonly roles?: string[];
  readonly auth_method: ClientAuthMethod;
  readonly jwks?: Record<string, unknown>;
  readonly jwks_uri?: string;
}

export interface ClientChanges {
  readonly name?: string;
  readonly scopes?: string[];
  readonly roles?: string[];
  readonly disabled?: boolean;
  readonly jwks?: Record<string, unknown>;
  readonly jwks_uri?: string;
}

/** Where an http: jwks_uri is tolerated outside production: this machine (tests, local development). */
const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

const unique = (values: readonly string[] | undefined): string[] | undefined => (values === undefined ? undefined : [...new Set(values)]);
const sameSet = (a: readonly string[], b: readonly string[]) => [...a].sort().join('\n') === [...b].sort().join('\n');

/**
 * Admin decisions about service clients, each in one transaction with the acting admin checked
 * again inside it (AdminActor) and its audit event. Disabling, deleting and changing what a
 * client's tokens say raise its token generation, announced like a user's, so every replica
 * refuses its live tokens at once. Input is checked in full before anything is written.
 */
@Injectable()
export class AdminClientsService {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly usersRepository: UsersRepository,
    private readonly revocations: Revocations,
    private readonly adminActor: AdminActor,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(filter: { limit: number; cursor?: string }): Promise<Page<ClientResponseDto>> {
    const page = await this.clients.list(filter);
    const now = this.clock.now();
    return { items: page.items.map((client) => toClientResponse(client, now)), next_cursor: page.next_cursor };
  }

  async create(input: NewClient, actor: AuthenticatedUser, context: ClientContext): Promise<CreatedClientResponseDto> {
    const keys = this.keysFor(input.auth_method, input.jwks, input.jwks_uri);
    const secret = input.auth_method === 'private_key_jwt' ? undefined : generateClientSecret();
    const id = randomUUID();
    const client = await this.asAdmin(actor, async (revoke) => {
      const row = Object.assign(new ServiceClient(), {
        id,
        // Its own id: unique, unguessable, and never one a user has, since both come from randomUUID.
        clientId: id,
        name: input.name,
        scopes: unique(input.scopes) ?? [],
        roles: unique(input.roles) ?? [],
        authMethod: input.auth_method,
        secretHash: secret === undefined ? null : hashClientSecret(secret),
        previousSecretHash: null,
        previousSecretExpiresAt: null,
        configuredSecretHash: null,
        jwks: keys.jwks,
        jwksUri: keys.jwksUri,
        disabled: false,
        tokenGeneration: 0,
        tokensRevokedAt: null,
        createdAt: revoke.at,
        updatedAt: revoke.at,
        deletedAt: null,
      } satisfies ServiceClient);
      await this.clients.insert(revoke.manager, row);
      await this.record(revoke, {
        type: 'client_created',
        client: context,
        details: { client_id: id, auth_method: input.auth_method, by: actor.id },
      });
      return row;
    });
    return { ...toClientResponse(client, this.clock.now()), ...(secret === undefined ? {} : { client_secret: secret }) };
  }

  async update(id: string, changes: ClientChanges, actor: AuthenticatedUser, context: ClientContext): Promise<ClientResponseDto> {
    await this.asAdmin(actor, async (revoke) => {
      const client = await this.clients.lock(revoke.manager, id);
      if (client === null) throw ApiError.notFound('No such client');
      const keysChanged = changes.jwks !== undefined || changes.jwks_uri !== undefined;
      const keys = keysChanged ? this.keysFor(client.authMethod, changes.jwks, changes.jwks_uri) : { jwks: client.jwks, jwksUri: client.jwksUri };
      const scopes = unique(changes.scopes) ?? client.scopes;
      const roles = unique(changes.roles) ?? client.roles;
      const disabled = changes.disabled ?? client.disabled;
      const name = changes.name ?? client.name;
      const tokensChanged = !sameSet(scopes, client.scopes) || !sameSet(roles, client.roles);
      const changed = [
        ...(name !== client.name ? ['name'] : []),
        ...(!sameSet(scopes, client.scopes) ? ['scopes'] : []),
        ...(!sameSet(roles, client.roles) ? ['roles'] : []),
        ...(keysChanged ? ['keys'] : []),
      ];
      if (changed.length === 0 && disabled === client.disabled) return;

      await this.clients.update(revoke.manager, id, { name, scopes, roles, disabled, jwks: keys.jwks, jwksUri: keys.jwksUri, updatedAt: revoke.at });
      // Live tokens say what the client was: once it is disabled or what they say changed, they are refused.
      if ((disabled && !client.disabled) || tokensChanged) await revoke.voidClientTokens(id);
      const details = { client_id: client.clientId, by: actor.id };
      if (disabled && !client.disabled) await this.record(revoke, { type: 'client_disabled', client: context, details });
      if (!disabled && client.disabled) await this.record(revoke, { type: 'client_enabled', client: context, details });
      if (changed.length > 0) await this.record(revoke, { type: 'client_updated', client: context, details: { ...details, changed } });
    });
    return this.get(id);
  }

  /**
   * A new secret; the one it replaces keeps working for `previousSecretTtl` seconds (0: not at all),
   * so the client's instances can be rolled over without an outage. One previous secret is kept.
   */
  async rotateSecret(
    id: string,
    previousSecretTtl: number | undefined,
    actor: AuthenticatedUser,
    context: ClientContext,
  ): Promise<RotatedSecretResponseDto> {
    const ttl = previousSecretTtl ?? DEFAULT_PREVIOUS_SECRET_TTL;
    const secret = generateClientSecret();
    return this.asAdmin(actor, async (revoke) => {
      const client = await this.clients.lock(revoke.manager, id);
      if (client === null) throw ApiError.notFound('No such client');
      if (client.authMethod === 'private_key_jwt') throw ApiError.conflict('A private_key_jwt client has no secret; change its keys instead');
      const expiresAt = new Date(revoke.at.getTime() + ttl * 1000);
      await this.clients.update(revoke.manager, id, {
        secretHash: hashClientSecret(secret),
        previousSecretHash: ttl > 0 ? client.secretHash : null,
        previousSecretExpiresAt: ttl > 0 ? expiresAt : null,
        updatedAt: revoke.at,
      });
      await this.record(revoke, {
        type: 'client_secret_rotated',
        client: context,
        details: { client_id: client.clientId, previous_secret_ttl: ttl, by: actor.id },
      });
      return { client_secret: secret, previous_secret_expires_at: expiresAt };
    });
  }

  /** The client can no longer authenticate and its live tokens are refused; its id is never reused. */
  async delete(id: string, actor: AuthenticatedUser, context: ClientContext): Promise<void> {
    await this.asAdmin(actor, async (revoke) => {
      const client = await this.clients.lock(revoke.manager, id);
      if (client === null) throw ApiError.notFound('No such client');
      await this.clients.update(revoke.manager, id, {
        deletedAt: revoke.at,
        updatedAt: revoke.at,
        disabled: true,
        secretHash: null,
        previousSecretHash: null,
        previousSecretExpiresAt: null,
      });
      await revoke.voidClientTokens(id);
      await this.record(revoke, { type: 'client_deleted', client: context, details: { client_id: client.clientId, by: actor.id } });
    });
  }

  private async get(id: string): Promise<ClientResponseDto> {
    const client = await this.clients.findById(id);
    if (client === null) throw ApiError.notFound('No such client');
    return toClientResponse(client, this.clock.now());
  }

  /** The keys a client registers: jwks or jwks_uri for private_key_jwt (exactly one), none for the secret methods. */
  private keysFor(
    method: ClientAuthMethod,
    jwks: Record<string, unknown> | undefined,
    jwksUri: string | undefined,
  ): { jwks: JSONWebKeySet | null; jwksUri: string | null } {
    if (method !== 'private_key_jwt') {
      if (jwks !== undefined || jwksUri !== undefined)
        throw ApiError.invalidRequest(`jwks and jwks_uri are for private_key_jwt clients, not ${method}`);
      return { jwks: null, jwksUri: null };
    }
    if ((jwks === undefined) === (jwksUri === undefined))
      throw ApiError.invalidRequest('a private_key_jwt client needs exactly one of jwks and jwks_uri');
    if (jwksUri !== undefined) return { jwks: null, jwksUri: this.checkedJwksUri(jwksUri) };
    try {
      return { jwks: publicKeySet(jwks), jwksUri: null };
    } catch (error) {
      if (error instanceof InvalidKeySet) throw ApiError.invalidRequest(error.message);
      throw error;
    }
  }

  /** https only; plain http only to this machine and never in production. No credentials or fragment. */
  private checkedJwksUri(value: string): string {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw ApiError.invalidRequest('jwks_uri must be an absolute https URL');
    }
    const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.hostname) && this.config.nodeEnv !== 'production';
    if ((url.protocol !== 'https:' && !loopbackHttp) || url.username !== '' || url.password !== '' || url.hash !== '') {
      throw ApiError.invalidRequest('jwks_uri must be an absolute https URL without credentials or fragment');
    }
    return url.href;
  }

  private asAdmin<T>(actor: AuthenticatedUser, decide: (revoke: RevocationBatch) => Promise<T>): Promise<T> {
    return this.revocations.transaction(async (revoke) => {
      const locked = await this.usersRepository.lockWithActiveAdmins(revoke.manager, [actor.id]);
      await this.adminActor.confirm(
        revoke.manager,
        actor,
        locked.find((row) => row.id === actor.id),
      );
      return decide(revoke);
    });
  }

  private record(revoke: RevocationBatch, event: AuditRecord): Promise<void> {
    return this.audit.record(event, revoke.manager);
  }
}
