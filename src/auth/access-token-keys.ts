import type { KeyObject } from 'node:crypto';
import { JwtSecretRequestType, type JwtModuleOptions, type JwtSignOptions } from '@nestjs/jwt';
import { ApiError } from '../common/errors/api-error.js';
import type { KeysService } from '../keys/keys.service.js';

/** Far above any token we issue (~1 kB); bounds the work an oversized header can cause. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * Header members we never send. They point at keys or demand extensions (RFC 7515 §4.1); a token
 * carrying one was not made here, so it is refused rather than ignored, and never followed.
 */
const FOREIGN_HEADER_MEMBERS = ['jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256', 'crit'];

/** RFC 9068 §4: the media type comparison is case-insensitive and the "application/" prefix optional. */
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

/** The JOSE header of a compact token, or undefined when it is not a JSON object. */
export function headerOf(token: string): Record<string, unknown> | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key that may verify `token`: one this service holds, named by a header of ours. Anything
 * else in the header is refused here, before any signature work; an unknown kid is never looked up
 * elsewhere. Used by JwtService (introspection, revocation) and passport-jwt (the guard) alike.
 * @throws ApiError 401 invalid_token
 */
export function accessTokenVerificationKey(keys: KeysService, token: string): KeyObject {
  const header = headerOf(token);
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
  const key = keys.verificationKey(header.kid);
  if (key === undefined) throw ApiError.invalidToken();
  return key;
}

/**
 * JwtModule without a fixed key: signing uses the private key the caller passes with the kid it
 * belongs to (read together from KeysService), verifying the published key the header names.
 */
export function jwtModuleOptions(keys: KeysService): JwtModuleOptions {
  return {
    secretOrKeyProvider: (requestType, tokenOrPayload, options) =>
      requestType === JwtSecretRequestType.SIGN
        ? (options as JwtSignOptions).privateKey!
        : accessTokenVerificationKey(keys, tokenOrPayload as string),
  };
}
