/**
 * Whether an error means "the database cannot be reached or did not answer in time" (an outage,
 * a restart, a failover, a frozen host, an exhausted server) rather than a bug: such requests are
 * answered 503 with Retry-After, and logged as one line without a stack.
 */

/** Seconds a client is asked to wait after a database outage answer: restarts and failovers take a few. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * SQLSTATEs of an unavailable server. Class 08 (connection exception) is matched as a class.
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, shutting
 * down, in recovery), 57P05 idle_session_timeout, 53300 too_many_connections, 57014 query_canceled
 * (statement_timeout: the server did not answer within the budget).
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '53300', '57014']);

/** Socket-level failures while connecting to or talking with the server. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres and pg-pool raise these as plain Errors, without a code. */
const UNAVAILABLE_MESSAGES = [
  'connection terminated', // "Connection terminated", "... unexpectedly", "... due to connection timeout"
  'timeout exceeded when trying to connect', // pg-pool: no connection within connectionTimeoutMillis
  'query read timeout', // node-postgres: query_timeout
  'client has encountered a connection error and is not queryable',
  'cannot use a pool after calling end on the pool',
  // TypeORM, when the connection under a transaction died (it releases the runner on the socket's
  // error, so the COMMIT or next query finds it gone), and while the pool is being closed.
  'query runner already released',
  'driver not connected',
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The code or message that shows the database is unavailable, or undefined for any other error. */
export function databaseUnavailableReason(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const { code, message, driverError, cause, errors } = error as ErrorLike;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_ERRNOS.has(code))) {
    return code;
  }
  if (typeof message === 'string') {
    const lower = message.toLowerCase();
    const known = UNAVAILABLE_MESSAGES.find((fragment) => lower.includes(fragment));
    if (known !== undefined) return message.split('\n')[0];
  }
  // TypeORM wraps the driver's error (QueryFailedError.driverError); Node wraps causes and, for
  // multi-address connects, an AggregateError's errors.
  for (const inner of [driverError, cause, ...(Array.isArray(errors) ? errors : [])]) {
    const reason = databaseUnavailableReason(inner, depth + 1);
    if (reason !== undefined) return reason;
  }
  return undefined;
}
