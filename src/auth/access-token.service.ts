import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import type { AuthenticatedClient, AuthenticatedPrincipal, AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { KeysService } from '../keys/keys.service.js';
import { RevocationList } from '../sessions/revocation-list.service.js';
import type { TokenSubject } from '../users/token-subject.js';

/** Far above any token we issue (~1 kB); bounds the work an oversized header can cause. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * Header members we never send. They point at keys or demand extensions (RFC 7515 §4.1); a token
 * carrying one was not made here, so it is refused rather than ignored, and never followed.
 */
const FOREIGN_HEADER_MEMBERS = ['jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256', 'crit'];

/** Tokens whose signature was checked recently; a client sends the same token many times. */
const VERIFIED_CACHE_SIZE = 10_000;

interface VerifiedEntry {
  readonly principal: AuthenticatedPrincipal;
  readonly kid: string;
  readonly notBefore: number;
  readonly expiresAt: number;
}

/** RFC 9068 §4: the media type comparison is case-insensitive and the "application/" prefix optional. */
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

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

function decodeHeader(token: string): Record<string, unknown> | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** RS256 access tokens in the RFC 9068 profile: signed with the active key, verified from memory. */
@Injectable()
export class AccessTokenService {
  private readonly verified = new Map<string, VerifiedEntry>();

  constructor(
    private readonly keys: KeysService,
    private readonly revocations: RevocationList,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** verify() plus the in-memory revocation list: what every guarded request goes through. */
  authenticate(token: string): AuthenticatedPrincipal {
    const principal = this.verify(token);
    if (this.revocations.isRevoked(principal)) throw ApiError.invalidToken();
    return principal;
  }

  /** A user's token, for the first-party client (FIRST_PARTY_CLIENT_ID) that /auth/login serves. */
  issue(subject: TokenSubject, sessionId: string): IssuedAccessToken {
    return this.sign({
      sub: subject.id,
      client_id: this.config.tokens.firstPartyClientId,
      sid: sessionId,
      roles: subject.roles,
      email: subject.email,
      gen: subject.tokenGeneration,
      email_verified: subject.emailVerified === true,
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
    const { kid, privateKey } = this.keys.signingKey();
    const payload = {
      iss: issuer,
      aud: audience,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + accessTokenTtlSeconds,
      jti: randomUUID(),
      ...claims,
    };
    const token = jwt.sign(payload, privateKey, {
      algorithm: 'RS256',
      header: { alg: 'RS256', typ: 'at+jwt', kid },
    });
    return { token, expiresIn: accessTokenTtlSeconds };
  }

  /** Verifies signature, header and claims; throws 401 invalid_token for any failure. */
  /**
   * The RS256 check runs once per distinct token: the exact token string (signature included) is
   * remembered with its key and lifetime, which are checked again on every use, so an entry can
   * outlive neither its key nor its expiry. Revocation is checked on every request by authenticate().
   */
  verify(token: string): AuthenticatedPrincipal {
    const now = this.clock.nowSeconds();
    const skew = this.config.tokens.clockSkewSeconds;
    const cached = this.verified.get(token);
    if (cached !== undefined) {
      const usable = now < cached.expiresAt + skew && now >= cached.notBefore - skew && this.keys.verificationKey(cached.kid) !== undefined;
      if (usable) return cached.principal;
      this.verified.delete(token);
    }
    const { claims, kid } = this.check(token);
    const principal = isClientToken(claims) ? clientPrincipal(claims) : userPrincipal(claims);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, kid, notBefore: claims.nbf, expiresAt: claims.exp });
    return principal;
  }

  verifiedClaims(token: string): AccessTokenClaims {
    return this.check(token).claims;
  }

  private check(token: string): { claims: AccessTokenClaims; kid: string } {
    if (token.length > MAX_TOKEN_LENGTH) throw ApiError.invalidToken();
    const header = decodeHeader(token);
    if (
      header === undefined ||
      header.alg !== 'RS256' ||
      typeof header.typ !== 'string' ||
      !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase()) ||
      typeof header.kid !== 'string' ||
      FOREIGN_HEADER_MEMBERS.some((member) => member in header)
    ) {
      throw ApiError.invalidToken();
    }
    // Only keys this service holds; an unknown kid is refused, never looked up elsewhere.
    const key = this.keys.verificationKey(header.kid);
    if (key === undefined) throw ApiError.invalidToken();

    const { issuer, audience, clockSkewSeconds } = this.config.tokens;
    const now = this.clock.nowSeconds();
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, key, {
        algorithms: ['RS256'],
        issuer,
        audience,
        clockTolerance: clockSkewSeconds,
        clockTimestamp: now,
      }) as jwt.JwtPayload;
    } catch {
      throw ApiError.invalidToken();
    }

    const { sub, sid, jti, iat, nbf, exp } = claims as Record<string, unknown>;
    // iss and aud were checked by jwt.verify against our own values.
    if (
      typeof sub !== 'string' ||
      typeof jti !== 'string' ||
      !isFiniteNumber(iat) ||
      !isFiniteNumber(nbf) ||
      !isFiniteNumber(exp) ||
      iat > now + clockSkewSeconds
    ) {
      throw ApiError.invalidToken();
    }
    const common = { iss: issuer, aud: audience, sub, exp, iat, nbf, jti };
    // A user token names its session; a service client's has none, and is its own subject.
    const checked = sid === undefined ? this.clientClaims(claims, common) : this.userClaims(claims, common);
    if (checked === undefined) throw ApiError.invalidToken();
    return { claims: checked, kid: header.kid };
  }

  private userClaims(claims: Record<string, unknown>, common: CommonClaims): UserAccessTokenClaims | undefined {
    // Tokens signed before generations existed carry none: generation 0, void once the user's rises.
    const { sid, email, roles, gen = 0, client_id: clientId = this.config.tokens.firstPartyClientId, email_verified: emailVerified } = claims;
    if (typeof sid !== 'string' || typeof email !== 'string' || !isStringArray(roles) || !Number.isSafeInteger(gen) || typeof clientId !== 'string') {
      return undefined;
    }
    if (emailVerified !== undefined && typeof emailVerified !== 'boolean') return undefined;
    return { ...common, client_id: clientId, sid, roles, email, gen: gen as number, ...(emailVerified === undefined ? {} : { email_verified: emailVerified }) };
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
