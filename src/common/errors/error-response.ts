import { HttpException, HttpStatus } from '@nestjs/common';
import { ApiError, type ErrorBody, type ErrorCode } from './api-error.js';
import { DATABASE_RETRY_AFTER_SECONDS, databaseUnavailableReason } from './database-unavailable.js';

/** What a bare status becomes when the error carrying it was not written for the client. */
const DEFAULTS_BY_STATUS: Record<number, { error: ErrorCode; message: string }> = {
  [HttpStatus.BAD_REQUEST]: { error: 'invalid_request', message: 'Bad request' },
  [HttpStatus.UNAUTHORIZED]: { error: 'invalid_token', message: 'Invalid or missing access token' },
  [HttpStatus.FORBIDDEN]: { error: 'insufficient_role', message: 'Forbidden' },
  [HttpStatus.NOT_FOUND]: { error: 'not_found', message: 'Not found' },
  [HttpStatus.METHOD_NOT_ALLOWED]: { error: 'not_found', message: 'Not found' },
  [HttpStatus.CONFLICT]: { error: 'conflict', message: 'Conflict' },
  [HttpStatus.PAYLOAD_TOO_LARGE]: { error: 'payload_too_large', message: 'Request body is too large' },
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: { error: 'invalid_request', message: 'Content-Type must be application/json' },
  [HttpStatus.TOO_MANY_REQUESTS]: { error: 'rate_limited', message: 'Too many requests' },
  [HttpStatus.SERVICE_UNAVAILABLE]: { error: 'service_unavailable', message: 'Service unavailable' },
};

/** Messages for the errors Fastify raises before a request reaches a controller. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'Request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Request body is empty',
};

const INTERNAL_ERROR: ErrorBody = {
  statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
  error: 'server_error',
  message: 'Internal server error',
};

function forStatus(statusCode: number, message?: string): ErrorBody {
  const defaults = DEFAULTS_BY_STATUS[statusCode];
  if (defaults === undefined) {
    return statusCode >= 500 ? INTERNAL_ERROR : { statusCode, error: 'invalid_request', message: message ?? 'Bad request' };
  }
  return { statusCode, error: defaults.error, message: message ?? defaults.message };
}

/** Nest wraps Fastify's own 4xx errors in an HttpException whose cause carries Fastify's code. */
function fastifyMessage(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? FASTIFY_MESSAGES[code] : undefined;
}

/**
 * A database that cannot be reached or does not answer in time (see database-unavailable.ts)
 * becomes this 503 with Retry-After; undefined for any other error.
 */
export function databaseUnavailableError(exception: unknown): ApiError | undefined {
  if (exception instanceof HttpException) return undefined;
  return databaseUnavailableReason(exception) === undefined
    ? undefined
    : ApiError.serviceUnavailable('The database is unavailable; retry later', DATABASE_RETRY_AFTER_SECONDS);
}

/**
 * Maps anything thrown while serving a request to the contract's error body. Only ApiErrors keep
 * their message; every other error is reduced to its status so no stack, SQL or library text can
 * reach a response. A database outage is a 503; anything else without a client status is a bare 500.
 */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof ApiError) return exception.toBody();
  if (exception instanceof HttpException) return forStatus(exception.getStatus(), fastifyMessage(exception.cause));
  return databaseUnavailableError(exception)?.toBody() ?? INTERNAL_ERROR;
}
