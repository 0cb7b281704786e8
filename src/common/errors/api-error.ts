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
  // 403 from login for a user with a second factor (with an mfa_token), and from admin routes under ADMIN_REQUIRE_MFA
  | 'mfa_required'
  // 403 from login when REQUIRE_VERIFIED_EMAIL is on and the (correct) password's account is unverified
  | 'email_not_verified'
  | 'service_unavailable'
  | 'server_error'
  // RFC 6749 §5.2, on the OAuth endpoints (see oauth-errors.ts)
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'origin_not_allowed';

export interface ErrorBody {
  statusCode: number;
  error: ErrorCode;
  message: string;
  /** mfa_required from login: the token for POST /auth/login/mfa, and its lifetime in seconds. */
  mfa_token?: string;
  expires_in?: number;
}

/**
 * An error the client is meant to see: its status, stable code and message are the whole response.
 * Anything else thrown is an unexpected 500 whose details stay in the log. Every error the service
 * answers with is made by one of the factories below (the constructor is private): one place lists
 * each status with its code, and a 403 always carries a 403 code.
 */
export class ApiError extends HttpException {
  private constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    /** Response headers that belong to this answer, such as Retry-After. */
    readonly headers: Readonly<Record<string, string>> = {},
    /** What only the log may know (which check refused, say); never sent. */
    readonly detail?: string,
    /** Members of the body beyond the three every error has (mfa_required's token). */
    private readonly extra: Pick<ErrorBody, 'mfa_token' | 'expires_in'> = {},
  ) {
    // An answer, not a fault: nobody reads its stack, and capturing one is most of the cost of a
    // refusal (every 401 of a flood of bad tokens).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super({ statusCode, error: code, message, ...extra } satisfies ErrorBody, statusCode);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  /** One answer for unknown email, wrong password and disabled account: no enumeration. */
  static invalidCredentials(detail?: string): ApiError {
    return new ApiError(HttpStatus.UNAUTHORIZED, 'invalid_credentials', 'Invalid email or password', {}, detail);
  }

  /** REQUIRE_VERIFIED_EMAIL: the password was right, the address is not verified yet (a new link was mailed, budget permitting). */
  static emailNotVerified(): ApiError {
    return new ApiError(
      HttpStatus.FORBIDDEN,
      'email_not_verified',
      'The email address is not verified yet: open the link in the verification mail (a new one was sent)',
    );
  }

  /**
   * The password was right and the account has a second factor: no session yet, only a short-lived,
   * single-use token for POST /auth/login/mfa. Not cached anywhere: it is as good as half a login.
   */
  static mfaRequired(mfaToken: string, expiresIn: number): ApiError {
    return new ApiError(
      HttpStatus.FORBIDDEN,
      'mfa_required',
      'A second factor is required: send a TOTP or recovery code with the mfa_token to POST /auth/login/mfa',
      { 'cache-control': 'no-store', pragma: 'no-cache' },
      undefined,
      { mfa_token: mfaToken, expires_in: expiresIn },
    );
  }

  /** ADMIN_REQUIRE_MFA: an admin route with an access token whose login proved no second factor. */
  static secondFactorRequired(): ApiError {
    return new ApiError(HttpStatus.FORBIDDEN, 'mfa_required', 'This route requires a login with a second factor (amr otp)');
  }

  /** A second-factor code or mfa_token that does not work: wrong, used, expired, or not this user's. */
  static invalidSecondFactor(): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, 'invalid_grant', 'Invalid or already used code, or invalid or expired mfa_token');
  }

  /** A mailed token (reset, verification) that does not work: unknown, used, superseded or expired. */
  static invalidMailToken(): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, 'invalid_grant', 'Invalid, expired or already used token');
  }

  /** /auth/refresh: any unknown, expired, spent or malformed refresh token. */
  static refreshTokenRefused(): ApiError {
    return new ApiError(HttpStatus.UNAUTHORIZED, 'invalid_grant', 'Invalid, expired or revoked refresh token');
  }

  /** RFC 6749 §5.2: on the token endpoint a bad grant is a 400 (on /auth/refresh it stays a 401). */
  static oauthInvalidGrant(message = 'Invalid, expired or revoked refresh token'): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, 'invalid_grant', message);
  }

  /**
   * RFC 6749 §5.2: 401, and when the client tried HTTP Basic, a WWW-Authenticate challenge for it.
   * One message whatever failed (unknown id, wrong secret, disabled, wrong method, bad assertion),
   * so a probe learns nothing about which clients exist.
   */
  static invalidClient(basicAttempted: boolean, detail?: string): ApiError {
    const headers: Record<string, string> = basicAttempted ? { 'www-authenticate': 'Basic realm="auth-service", charset="UTF-8"' } : {};
    return new ApiError(HttpStatus.UNAUTHORIZED, 'invalid_client', 'Client authentication failed', headers, detail);
  }

  static invalidScope(message: string): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, 'invalid_scope', message);
  }

  static unauthorizedClient(message: string): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, 'unauthorized_client', message);
  }

  static unsupportedGrantType(message: string): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, 'unsupported_grant_type', message);
  }

  static insufficientRole(message: string): ApiError {
    return new ApiError(HttpStatus.FORBIDDEN, 'insufficient_role', message);
  }

  /** A browser request whose Origin may not use the cookie it carries (CSRF). */
  static originNotAllowed(message: string): ApiError {
    return new ApiError(HttpStatus.FORBIDDEN, 'origin_not_allowed', message);
  }

  static unsupportedMediaType(message: string): ApiError {
    return new ApiError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'invalid_request', message);
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
    return { statusCode: this.statusCode, error: this.code, message: this.message, ...this.extra };
  }
}
