import type { ErrorBody } from './api-error.js';

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
