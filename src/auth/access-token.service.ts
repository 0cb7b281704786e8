import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
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
  readonly user: AuthenticatedUser;
  readonly kid: string;
  readonly notBefore: number;
  readonly expiresAt: number;
}

/** RFC 9068 §4: the media type comparison is case-insensitive and the "application/" prefix optional. */
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

/** The RFC 9068 claims of a verified access token, plus ours (sid, roles, email, gen). */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly exp: number;
  readonly iat: number;
  readonly nbf: number;
  readonly jti: string;
  readonly sid: string;
  readonly roles: string[];
  readonly email: string;
  /** The user's token generation at issue; revoking all of a user's tokens raises theirs. */
  readonly gen: number;
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
  authenticate(token: string): AuthenticatedUser {
    const user = this.verify(token);
    if (this.revocations.isRevoked(user)) throw ApiError.invalidToken();
    return user;
  }

  issue(subject: TokenSubject, sessionId: string): IssuedAccessToken {
    const { issuer, audience, accessTokenTtlSeconds } = this.config.tokens;
    const issuedAt = this.clock.nowSeconds();
    const { kid, privateKey } = this.keys.signingKey();
    const claims = {
      iss: issuer,
      aud: audience,
      sub: subject.id,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + accessTokenTtlSeconds,
      jti: randomUUID(),
      sid: sessionId,
      roles: subject.roles,
      email: subject.email,
      gen: subject.tokenGeneration,
    };
    const token = jwt.sign(claims, privateKey, {
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
  verify(token: string): AuthenticatedUser {
    const now = this.clock.nowSeconds();
    const skew = this.config.tokens.clockSkewSeconds;
    const cached = this.verified.get(token);
    if (cached !== undefined) {
      const usable = now < cached.expiresAt + skew && now >= cached.notBefore - skew && this.keys.verificationKey(cached.kid) !== undefined;
      if (usable) return cached.user;
      this.verified.delete(token);
    }
    const { claims, kid } = this.check(token);
    const user = {
      id: claims.sub,
      email: claims.email,
      roles: claims.roles,
      sessionId: claims.sid,
      tokenId: claims.jti,
      issuedAt: claims.iat,
      tokenGeneration: claims.gen,
    };
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { user, kid, notBefore: claims.nbf, expiresAt: claims.exp });
    return user;
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

    // Tokens signed before generations existed carry none: generation 0, void once the user's rises.
    const { sub, sid, jti, email, roles, iat, nbf, exp, gen = 0 } = claims as Record<string, unknown>;
    // iss and aud were checked by jwt.verify against our own values.
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof email !== 'string' ||
      !Array.isArray(roles) ||
      !roles.every((role) => typeof role === 'string') ||
      !isFiniteNumber(iat) ||
      !isFiniteNumber(nbf) ||
      !isFiniteNumber(exp) ||
      !Number.isSafeInteger(gen) ||
      iat > now + clockSkewSeconds
    ) {
      throw ApiError.invalidToken();
    }
    return { claims: { iss: issuer, aud: audience, sub, exp, iat, nbf, jti, sid, roles: roles as string[], email, gen: gen as number }, kid: header.kid };
  }
}
