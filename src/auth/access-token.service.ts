import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService, type JwtVerifyOptions } from '@nestjs/jwt';
import type { AuthenticatedClient, AuthenticatedPrincipal, AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { KeysService } from '../keys/keys.service.js';
import { RevocationList } from '../sessions/revocation-list.service.js';
import type { TokenSubject } from '../users/token-subject.js';
import { accessTokenVerificationKey, headerOf } from './access-token-keys.js';

/** Tokens whose signature was checked recently; a client sends the same token many times. */
const VERIFIED_CACHE_SIZE = 10_000;
/** Tokens whose signature failed: a misbehaving client retries the same one. */
const FORGED_CACHE_SIZE = 1_000;

interface VerifiedEntry {
  readonly principal: AuthenticatedPrincipal;
  readonly kid: string;
  readonly notBefore: number;
  readonly expiresAt: number;
}

/** The RFC 9068 claims of a verified user access token, plus ours (sid, roles, email, gen). */
export interface UserAccessTokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  /** The first-party client (FIRST_PARTY_CLIENT_ID); tokens signed before it was added carry none and count as its. */
  readonly client_id: string;
  readonly exp: number;
  readonly iat: number;
  readonly nbf: number;
  readonly jti: string;
  readonly sid: string;
  readonly roles: string[];
  readonly email: string;
  /** The user's token generation at issue; revoking all of a user's tokens raises theirs. */
  readonly gen: number;
  /** Whether the email was verified when the token was issued; absent from tokens signed before it existed. */
  readonly email_verified?: boolean;
  /** RFC 8176 authentication methods of the session's login (`pwd`, `otp`); absent from tokens signed before it existed. */
  readonly amr?: string[];
}

/** A service client's own token (client credentials), RFC 9068: `sub` = `client_id`, `scope`, no session. */
export interface ClientAccessTokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly client_id: string;
  readonly exp: number;
  readonly iat: number;
  readonly nbf: number;
  readonly jti: string;
  /** Space-separated (RFC 9068 §2.2.3); may be empty. */
  readonly scope: string;
  /** Present only when an admin gave the client roles. */
  readonly roles?: string[];
  /** The client's token generation at issue; disabling or deleting the client raises it. */
  readonly gen: number;
}

export type AccessTokenClaims = UserAccessTokenClaims | ClientAccessTokenClaims;

export const isClientToken = (claims: AccessTokenClaims): claims is ClientAccessTokenClaims => !('sid' in claims);

/** What a client token is issued for: the client as read for this request, and the scopes granted. */
export interface ClientTokenSubject {
  readonly clientId: string;
  readonly roles: readonly string[];
  readonly tokenGeneration: number;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly expiresIn: number;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** RS256 access tokens in the RFC 9068 profile: signed with the active key, verified from memory. */
@Injectable()
export class AccessTokenService {
  private readonly verified = new Map<string, VerifiedEntry>();
  private readonly forged = new Set<string>();

  constructor(
    private readonly jwt: JwtService,
    private readonly keys: KeysService,
    private readonly revocations: RevocationList,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** A user's token, for the first-party client (FIRST_PARTY_CLIENT_ID) that /auth/login serves. */
  issue(subject: TokenSubject, sessionId: string, amr: readonly string[] = ['pwd']): IssuedAccessToken {
    return this.sign({
      sub: subject.id,
      client_id: this.config.tokens.firstPartyClientId,
      sid: sessionId,
      roles: subject.roles,
      email: subject.email,
      gen: subject.tokenGeneration,
      email_verified: subject.emailVerified === true,
      amr: [...amr],
    });
  }

  /** A service client's own token (client credentials): `sub` = `client_id`, roles only if it has any. */
  issueForClient(client: ClientTokenSubject, scopes: readonly string[]): IssuedAccessToken {
    return this.sign({
      sub: client.clientId,
      client_id: client.clientId,
      scope: scopes.join(' '),
      ...(client.roles.length > 0 ? { roles: [...client.roles] } : {}),
      gen: client.tokenGeneration,
    });
  }

  private sign(claims: Record<string, unknown>): IssuedAccessToken {
    const { issuer, audience, accessTokenTtlSeconds } = this.config.tokens;
    const issuedAt = this.clock.nowSeconds();
    // Key and kid read together: a rotation between two reads could pair them wrongly.
    const { kid, privateKey } = this.keys.signingKey();
    const payload = { iss: issuer, aud: audience, iat: issuedAt, nbf: issuedAt, exp: issuedAt + accessTokenTtlSeconds, jti: randomUUID(), ...claims };
    const token = this.jwt.sign(payload, { privateKey, algorithm: 'RS256', header: { alg: 'RS256', typ: 'at+jwt', kid } });
    return { token, expiresIn: accessTokenTtlSeconds };
  }

  /**
   * The verified claims of a token presented outside the guard (introspection, revocation).
   * @throws ApiError 401 invalid_token for any failure
   */
  verify(token: string): AccessTokenClaims {
    let payload: Record<string, unknown>;
    try {
      // JwtModule's key provider refuses foreign headers and unknown kids (accessTokenVerificationKey).
      payload = this.jwt.verify<Record<string, unknown>>(token, this.verifyOptions());
    } catch {
      throw ApiError.invalidToken();
    }
    return this.claimsOf(payload);
  }

  /** See accessTokenVerificationKey. @throws ApiError 401 invalid_token */
  verificationKey(token: string): KeyObject {
    return accessTokenVerificationKey(this.keys, token);
  }

  /** Who a token speaks for, revocation included: for callers outside the guard (introspection's admin Bearer). */
  authenticate(token: string): AuthenticatedPrincipal {
    return this.recall(token) ?? this.accept(token, this.verify(token));
  }

  /**
   * jsonwebtoken's options for every verification (JwtService here, passport-jwt in the guard):
   * RS256 only, our issuer and audience. Time is checked by claimsOf against the service's
   * calibrated clock instead, which jsonwebtoken cannot be given per request.
   */
  verifyOptions(): JwtVerifyOptions {
    const { issuer, audience } = this.config.tokens;
    return { algorithms: ['RS256'], issuer, audience, ignoreExpiration: true, ignoreNotBefore: true };
  }

  /**
   * A token whose signature was just verified: its principal, remembered with its key and lifetime
   * so that its next uses skip the RS256 check, and refused if revoked.
   * @throws ApiError 401 invalid_token
   */
  accept(token: string, claims: AccessTokenClaims): AuthenticatedPrincipal {
    const principal = isClientToken(claims) ? clientPrincipal(claims) : userPrincipal(claims);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, kid: headerOf(token)!.kid as string, notBefore: claims.nbf, expiresAt: claims.exp });
    if (this.revocations.isRevoked(principal)) throw ApiError.invalidToken();
    return principal;
  }

  /**
   * A token whose RS256 signature did not verify under a key this service holds: that verdict never
   * changes (a kid names one key for good), so its next presentations are refused without the work.
   * Tokens refused for anything that may change (an unknown kid, a time) are not remembered.
   */
  rememberForged(token: string): void {
    if (this.forged.size >= FORGED_CACHE_SIZE) this.forged.delete(this.forged.values().next().value!);
    this.forged.add(token);
  }

  /**
   * The principal of a token verified before, while its key is still published and its lifetime
   * holds (both checked again on every use, so an entry outlives neither), or undefined.
   * @throws ApiError 401 invalid_token when it was revoked since, or its signature failed before
   */
  recall(token: string): AuthenticatedPrincipal | undefined {
    const cached = this.verified.get(token);
    if (cached === undefined) {
      if (this.forged.has(token)) throw ApiError.invalidToken();
      return undefined;
    }
    const now = this.clock.nowSeconds();
    const skew = this.config.tokens.clockSkewSeconds;
    if (now >= cached.expiresAt + skew || now < cached.notBefore - skew || this.keys.verificationKey(cached.kid) === undefined) {
      this.verified.delete(token);
      return undefined;
    }
    if (this.revocations.isRevoked(cached.principal)) throw ApiError.invalidToken();
    return cached.principal;
  }

  /**
   * The claims of a payload whose signature was verified: our issuer and audience, the times
   * against the service's clock with JWT_CLOCK_SKEW, and the shape of a user's or a service
   * client's token.
   * @throws ApiError 401 invalid_token
   */
  claimsOf(payload: Record<string, unknown>): AccessTokenClaims {
    const { issuer, audience, clockSkewSeconds } = this.config.tokens;
    const now = this.clock.nowSeconds();
    const { iss, aud, sub, sid, jti, iat, nbf, exp } = payload;
    if (
      iss !== issuer ||
      (Array.isArray(aud) ? !aud.includes(audience) : aud !== audience) ||
      typeof sub !== 'string' ||
      typeof jti !== 'string' ||
      !isFiniteNumber(iat) ||
      !isFiniteNumber(nbf) ||
      !isFiniteNumber(exp) ||
      iat > now + clockSkewSeconds ||
      nbf > now + clockSkewSeconds ||
      exp <= now - clockSkewSeconds
    ) {
      throw ApiError.invalidToken();
    }
    const common = { iss: issuer, aud: audience, sub, exp, iat, nbf, jti };
    // A user token names its session; a service client's has none, and is its own subject.
    const checked = sid === undefined ? this.clientClaims(payload, common) : this.userClaims(payload, common);
    if (checked === undefined) throw ApiError.invalidToken();
    return checked;
  }

  private userClaims(claims: Record<string, unknown>, common: CommonClaims): UserAccessTokenClaims | undefined {
    // Tokens signed before generations existed carry none: generation 0, void once the user's rises.
    const { sid, email, roles, gen = 0, client_id: clientId = this.config.tokens.firstPartyClientId, email_verified: emailVerified, amr } = claims;
    if (typeof sid !== 'string' || typeof email !== 'string' || !isStringArray(roles) || !Number.isSafeInteger(gen) || typeof clientId !== 'string') {
      return undefined;
    }
    if (emailVerified !== undefined && typeof emailVerified !== 'boolean') return undefined;
    if (amr !== undefined && !isStringArray(amr)) return undefined;
    return {
      ...common,
      client_id: clientId,
      sid,
      roles,
      email,
      gen: gen as number,
      ...(emailVerified === undefined ? {} : { email_verified: emailVerified }),
      ...(amr === undefined ? {} : { amr }),
    };
  }

  private clientClaims(claims: Record<string, unknown>, common: CommonClaims): ClientAccessTokenClaims | undefined {
    const { client_id: clientId, scope, roles, gen, email } = claims;
    if (
      clientId !== common.sub ||
      typeof scope !== 'string' ||
      (roles !== undefined && !isStringArray(roles)) ||
      !Number.isSafeInteger(gen) ||
      email !== undefined
    ) {
      return undefined;
    }
    return { ...common, client_id: clientId, scope, ...(roles === undefined ? {} : { roles }), gen: gen as number };
  }
}

type CommonClaims = Pick<ClientAccessTokenClaims, 'iss' | 'aud' | 'sub' | 'exp' | 'iat' | 'nbf' | 'jti'>;

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

function userPrincipal(claims: UserAccessTokenClaims): AuthenticatedUser {
  return {
    kind: 'user',
    id: claims.sub,
    email: claims.email,
    roles: claims.roles,
    sessionId: claims.sid,
    tokenId: claims.jti,
    issuedAt: claims.iat,
    tokenGeneration: claims.gen,
    emailVerified: claims.email_verified,
    amr: claims.amr ?? ['pwd'],
  };
}

function clientPrincipal(claims: ClientAccessTokenClaims): AuthenticatedClient {
  return {
    kind: 'client',
    id: claims.client_id,
    roles: claims.roles ?? [],
    scopes: claims.scope === '' ? [] : claims.scope.split(' '),
    tokenId: claims.jti,
    issuedAt: claims.iat,
    expiresAt: claims.exp,
    tokenGeneration: claims.gen,
  };
}
