import { HttpStatus } from '@nestjs/common';
import { ApiError, type ErrorBody } from './api-error.js';

/**
 * The endpoints that standard OAuth clients call. Their errors are RFC 6749 §5.2 JSON
 * (`error`, `error_description`; the contract's `statusCode` and `message` stay as extra members)
 * with `Cache-Control: no-store`, whatever raised them: the handler, a guard, validation or the
 * HTTP hardening hooks. They also take the RFC form encoding (see http-hardening.ts).
 */
export const OAUTH_ENDPOINTS: ReadonlySet<string> = new Set(['/oauth/token', '/auth/introspect', '/auth/revoke']);

/** RFC 6749 §4.4.2, §6: the token endpoint takes form-encoded parameters only. */
export const FORM_ONLY_ENDPOINTS: ReadonlySet<string> = new Set(['/oauth/token']);

export const OAUTH_ERROR_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-store', pragma: 'no-cache' };

export type OAuthErrorBody = ErrorBody & { error_description: string };

export function toOAuthErrorBody(body: ErrorBody): OAuthErrorBody {
  return { ...body, error_description: body.message };
}

/**
 * RFC 6749 §5.2: 401, and when the client tried HTTP Basic, a WWW-Authenticate challenge for it.
 * One message whatever failed (unknown id, wrong secret, disabled, wrong method, bad assertion),
 * so a probe learns nothing about which clients exist.
 */
export function invalidClient(basicAttempted: boolean): ApiError {
  return new ApiError(
    HttpStatus.UNAUTHORIZED,
    'invalid_client',
    'Client authentication failed',
    basicAttempted ? { 'www-authenticate': 'Basic realm="auth-service", charset="UTF-8"' } : {},
  );
}

export const oauthInvalidRequest = (message: string): ApiError => ApiError.invalidRequest(message);

/** RFC 6749 §5.2: on the token endpoint a bad grant is a 400 (on /auth/refresh it stays a 401). */
export const oauthInvalidGrant = (message = 'Invalid, expired or revoked refresh token'): ApiError =>
  new ApiError(HttpStatus.BAD_REQUEST, 'invalid_grant', message);

export const invalidScope = (message: string): ApiError => new ApiError(HttpStatus.BAD_REQUEST, 'invalid_scope', message);

export const unauthorizedClient = (message: string): ApiError => new ApiError(HttpStatus.BAD_REQUEST, 'unauthorized_client', message);

export const unsupportedGrantType = (message: string): ApiError => new ApiError(HttpStatus.BAD_REQUEST, 'unsupported_grant_type', message);
