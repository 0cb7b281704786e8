import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { JSONWebKeySet } from 'jose';

/** How a service client proves who it is at the token, introspection and revocation endpoints. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/**
 * A service that gets tokens of its own (client credentials) and may introspect, revoke and read
 * the revocation feed. Secrets are stored only as SHA-256 digests (see client-secrets.ts). A deleted
 * client stays as a tombstone (`deleted_at`): its id is never handed out again, and the revocation
 * list can still reload the generation that refuses its tokens.
 */
@Entity({ name: 'service_clients' })
@Check('service_clients_auth_method_check', `"auth_method" IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt')`)
export class ServiceClient {
  /** The admin routes' handle (/admin/clients/:id). */
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'service_clients_pkey' })
  id!: string;

  /**
   * The OAuth client_id, and the `sub` and `client_id` of its tokens: the same text as `id` for
   * clients made through the admin routes, the configured name for those INTROSPECTION_CLIENTS made.
   */
  @Index('service_clients_client_id_key', { unique: true })
  @Column({ name: 'client_id', type: 'text' })
  clientId!: string;

  @Column({ type: 'text' })
  name!: string;

  /** What it may ask for with client_credentials; a request without `scope` gets all of them. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scopes!: string[];

  /** Carried in its access tokens (`roles`) only when not empty. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  roles!: string[];

  @Column({ name: 'auth_method', type: 'text' })
  authMethod!: ClientAuthMethod;

  /** SHA-256 of the current secret; null for private_key_jwt clients. */
  @Column({ name: 'secret_hash', type: 'bytea', nullable: true })
  secretHash!: Buffer | null;

  /** The secret before the last rotation, valid until previous_secret_expires_at. */
  @Column({ name: 'previous_secret_hash', type: 'bytea', nullable: true })
  previousSecretHash!: Buffer | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt!: Date | null;

  /**
   * The digest INTROSPECTION_CLIENTS last set: a start applies the variable's digest only when it
   * changed, so a secret an admin rotated since is not put back by every restart.
   */
  @Column({ name: 'configured_secret_hash', type: 'bytea', nullable: true })
  configuredSecretHash!: Buffer | null;

  /** Public keys for private_key_jwt, registered inline... */
  @Column({ type: 'jsonb', nullable: true })
  jwks!: JSONWebKeySet | null;

  /** ...or fetched (and cached) from here. */
  @Column({ name: 'jwks_uri', type: 'text', nullable: true })
  jwksUri!: string | null;

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /**
   * Raised when the client is disabled or deleted, or its roles or scopes change: each of its
   * tokens carries the generation it was issued under (`gen`), and an older one is refused.
   */
  @Column({ name: 'token_generation', type: 'integer', default: 0 })
  tokenGeneration!: number;

  /** When token_generation last rose: the revocation list reloads the recent ones. */
  @Index('service_clients_tokens_revoked_at_idx', { where: '"tokens_revoked_at" IS NOT NULL' })
  @Column({ name: 'tokens_revoked_at', type: 'timestamptz', nullable: true })
  tokensRevokedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;
}

/**
 * The `jti` of every private_key_jwt assertion accepted, until it expires: the primary key makes
 * each one usable once across all replicas (RFC 7523 §3 item 7).
 */
@Entity({ name: 'client_assertions' })
@Index('client_assertions_expires_at_idx', ['expiresAt'])
export class UsedClientAssertion {
  @PrimaryColumn({ name: 'client_id', type: 'text', primaryKeyConstraintName: 'client_assertions_pkey' })
  clientId!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'client_assertions_pkey' })
  jti!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}

/**
 * A service client's access token revoked on its own (RFC 7009), by `jti`, for as long as it could
 * still be accepted. User tokens are revoked through their session instead.
 */
@Entity({ name: 'revoked_client_tokens' })
@Index('revoked_client_tokens_revoked_at_idx', ['revokedAt'])
@Index('revoked_client_tokens_expires_at_idx', ['expiresAt'])
export class RevokedClientToken {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'revoked_client_tokens_pkey' })
  jti!: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId!: string;

  @Column({ name: 'revoked_at', type: 'timestamptz' })
  revokedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
