import { ApiError } from '../common/errors/api-error.js';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { Clock } from '../common/clock.js';
import { basicCredentials } from '../common/auth/authorization-header.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { RateLimiter } from '../throttle/rate-limiter.js';
import { CLIENT_ASSERTION_ALGORITHMS, ClientKeyResolvers } from './client-keys.js';
import { secretMatches } from './client-secrets.js';
import { ClientsRepository } from './clients.repository.js';
import type { ClientAuthMethod, ServiceClient } from './service-client.entity.js';

/** RFC 7523 §2.2 */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** An assertion is for one request: one that lives longer than this is refused (RFC 7523 §3 item 4 lets us limit it). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const MAX_ASSERTION_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
const MAX_CLIENT_ID_LENGTH = 255;

/** The client authentication parameters of a request body (RFC 6749 §2.3.1, RFC 7521 §4.2). */
export interface ClientCredentialParameters {
  readonly client_id?: string;
  readonly client_secret?: string;
  readonly client_assertion?: string;
  readonly client_assertion_type?: string;
}

/**
 * Who is calling an OAuth endpoint: nobody in particular; the first-party public client (only its
 * client_id, auth method `none`), whose user sessions /auth/login opens; or a registered service
 * client that proved its identity with the method it was registered with.
 */
export type OAuthCaller =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'public'; readonly clientId: string }
  | { readonly kind: 'confidential'; readonly clientId: string; readonly client: ServiceClient; readonly method: ClientAuthMethod };

/** Any Authorization header of the Basic scheme: one that does not parse is a failed attempt, not no attempt. */
const BASIC_SCHEME = /^Basic(?: |$)/i;

/**
 * The client authentication parameters of a raw body (JSON, form, or none), for a guard that runs
 * before validation: each must be a single string (RFC 6749 §3.1: no parameter more than once).
 */
export function credentialParameters(body: unknown): ClientCredentialParameters {
  if (typeof body !== 'object' || body === null) return {};
  const source = body as Record<string, unknown>;
  const parameters: Record<string, string> = {};
  for (const name of ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'] as const) {
    const value = source[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw ApiError.invalidRequest(`${name} must be given once, as a string`);
    parameters[name] = value;
  }
  return parameters;
}

type Presented =
  | { readonly method: 'client_secret_basic' | 'client_secret_post'; readonly clientId: string; readonly secret: string }
  | { readonly method: 'private_key_jwt'; readonly clientId: string; readonly assertion: string }
  | { readonly method: 'none'; readonly clientId: string };

/**
 * Client authentication for the token, introspection and revocation endpoints (RFC 6749 §2.3,
 * RFC 7523 §2.2). Every failure is the same 401 invalid_client, counted against the caller's IP
 * (RATE_LIMIT_IP_PER_MINUTE failures a minute, then 429), so guessing costs the guesser.
 */
@Injectable()
export class ClientAuthenticator {
  private readonly keys = new ClientKeyResolvers();

  constructor(
    private readonly clients: ClientsRepository,
    private readonly rateLimiter: RateLimiter,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * @param endpointPath the path called, e.g. /oauth/token: its URL is one audience an assertion may name
   * @throws ApiError: 400 invalid_request (several methods at once, a malformed parameter), 401 invalid_client, 429
   */
  async authenticate(request: FastifyRequest, body: ClientCredentialParameters, endpointPath: string): Promise<OAuthCaller> {
    const authorization = request.headers.authorization;
    const basicAttempted = authorization !== undefined && BASIC_SCHEME.test(authorization);
    const presented = this.presented(basicAttempted ? authorization : undefined, body);
    if (presented === undefined) return { kind: 'anonymous' };
    if (presented === 'invalid') return this.fail(request, basicAttempted);

    if (presented.method === 'none') {
      if (presented.clientId === this.config.tokens.firstPartyClientId) return { kind: 'public', clientId: presented.clientId };
      // A registered client is confidential: it must authenticate (RFC 6749 §3.2.1).
      return this.fail(request, false);
    }
    const client = presented.clientId.length <= MAX_CLIENT_ID_LENGTH ? await this.clients.findByClientId(presented.clientId) : null;
    const proven =
      presented.method === 'private_key_jwt'
        ? await this.assertionHolds(client, presented.clientId, presented.assertion, endpointPath)
        : this.secretHolds(client, presented.secret);
    if (client === null || !proven || client.disabled || client.authMethod !== presented.method) return this.fail(request, basicAttempted);
    return { kind: 'confidential', clientId: client.clientId, client, method: client.authMethod };
  }

  /** Which single method the request uses; 'invalid' for a Basic header that does not parse. */
  private presented(basicHeader: string | undefined, body: ClientCredentialParameters): Presented | 'invalid' | undefined {
    const { client_id: bodyId, client_secret: secret, client_assertion: assertion, client_assertion_type: assertionType } = body;
    const used = [basicHeader !== undefined, secret !== undefined, assertion !== undefined || assertionType !== undefined].filter(Boolean).length;
    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in each request.
    if (used > 1) throw ApiError.invalidRequest('Use exactly one client authentication method');

    if (basicHeader !== undefined) {
      const credentials = basicCredentials(basicHeader);
      if (credentials === undefined) return 'invalid';
      if (bodyId !== undefined && bodyId !== credentials.clientId) throw ApiError.invalidRequest('client_id does not match the Basic credentials');
      return { method: 'client_secret_basic', clientId: credentials.clientId, secret: credentials.secret };
    }
    if (secret !== undefined) {
      if (bodyId === undefined) throw ApiError.invalidRequest('client_secret needs client_id');
      return { method: 'client_secret_post', clientId: bodyId, secret };
    }
    if (assertion !== undefined || assertionType !== undefined) {
      if (assertionType !== JWT_BEARER_ASSERTION_TYPE) throw ApiError.invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`);
      if (assertion === undefined) throw ApiError.invalidRequest('client_assertion is required');
      let issuer: unknown;
      try {
        issuer = decodeJwt(assertion).iss;
      } catch {
        return 'invalid';
      }
      // RFC 7521 §4.2: client_id is optional here; if sent it must name the assertion's issuer.
      if (typeof issuer !== 'string' || (bodyId !== undefined && bodyId !== issuer)) return 'invalid';
      return { method: 'private_key_jwt', clientId: issuer, assertion };
    }
    return bodyId === undefined ? undefined : { method: 'none', clientId: bodyId };
  }

  private secretHolds(client: ServiceClient | null, secret: string): boolean {
    const previousValid = client?.previousSecretExpiresAt != null && client.previousSecretExpiresAt > this.clock.now();
    return secretMatches(secret, client?.secretHash, previousValid ? client?.previousSecretHash : null);
  }

  /**
   * RFC 7523 §3: signed by one of the client's keys with an algorithm we advertise; iss = sub = its
   * client_id; aud naming us (the issuer, the token endpoint, or the endpoint called); exp present
   * and near; the jti never seen before, on any replica.
   */
  private async assertionHolds(client: ServiceClient | null, clientId: string, assertion: string, endpointPath: string): Promise<boolean> {
    const resolve = client === null ? undefined : this.keys.resolverFor(client);
    if (client === null || resolve === undefined || assertion.length > MAX_ASSERTION_LENGTH) return false;
    const { issuer, clockSkewSeconds } = this.config.tokens;
    const base = issuer.replace(/\/$/, '');
    const now = this.clock.now();
    let payload;
    try {
      ({ payload } = await jwtVerify(assertion, resolve, {
        algorithms: CLIENT_ASSERTION_ALGORITHMS,
        issuer: clientId,
        subject: clientId,
        audience: [...new Set([issuer, base, `${base}/oauth/token`, `${base}${endpointPath}`])],
        requiredClaims: ['exp', 'jti'],
        clockTolerance: clockSkewSeconds,
        currentDate: now,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) return false;
      throw error;
    }
    const { exp, jti } = payload as { exp: number; jti: unknown };
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (exp > nowSeconds + MAX_ASSERTION_LIFETIME_SECONDS + clockSkewSeconds) return false;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) return false;
    // Kept until no replica would accept the assertion anyway.
    return this.clients.useAssertion(clientId, jti, new Date((exp + clockSkewSeconds) * 1000));
  }

  private async fail(request: FastifyRequest, basicAttempted: boolean): Promise<never> {
    await this.rateLimiter.count('client_auth_failure', request.ip);
    throw ApiError.invalidClient(basicAttempted);
  }
}
