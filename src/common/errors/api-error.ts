import { HttpException, HttpStatus } from '@nestjs/common';

/** The contract's stable, machine-readable error codes (see the README's API section). */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_credentials'
  | 'invalid_grant'
  | 'invalid_client'
  | 'invalid_token'
  | 'insufficient_role'
  | 'rate_limited'
  | 'conflict'
  | 'not_found'
  | 'payload_too_large'
  // 403 from login when REQUIRE_VERIFIED_EMAIL is on and the (correct) password's account is unverified
  | 'email_not_verified'
  | 'service_unavailable'
  | 'server_error'
  // RFC 6749 §5.2, on the OAuth endpoints (see oauth-errors.ts)
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'unsupported_grant_type';

export interface ErrorBody {
  statusCode: number;
  error: ErrorCode;
  message: string;
}

/**
 * An error the client is meant to see: its status, stable code and message are the whole response.
 * Anything else thrown is an unexpected 500 whose details stay in the log.
 */
export class ApiError extends HttpException {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    /** Response headers that belong to this answer, such as Retry-After. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super({ statusCode, error: code, message } satisfies ErrorBody, statusCode);
  }

  static invalidRequest(message: string): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, 'invalid_request', message);
  }

  static conflict(message: string): ApiError {
    return new ApiError(HttpStatus.CONFLICT, 'conflict', message);
  }

  static notFound(message = 'Not found'): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, 'not_found', message);
  }

  /** One message for every failure, so a probe learns nothing about which check refused the token. */
  static invalidToken(): ApiError {
    return new ApiError(HttpStatus.UNAUTHORIZED, 'invalid_token', 'Invalid or expired access token');
  }

  static rateLimited(retryAfterSeconds: number): ApiError {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    return new ApiError(HttpStatus.TOO_MANY_REQUESTS, 'rate_limited', 'Too many requests; retry later', {
      'retry-after': String(seconds),
    });
  }

  /** With `retryAfterSeconds`, also a Retry-After header (a transient outage, such as the database's). */
  static serviceUnavailable(message: string, retryAfterSeconds?: number): ApiError {
    const headers: Record<string, string> = {};
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
    return new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'service_unavailable', message, headers);
  }

  toBody(): ErrorBody {
    return { statusCode: this.statusCode, error: this.code, message: this.message };
  }
}
