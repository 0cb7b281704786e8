import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';

/** Probes and scrapes would drown the log; their answers are in the metrics. */
const UNLOGGED_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.access_token',
  '*.refresh_token',
  '*.token',
];

/**
 * One asynchronous stdout stream per process, shared by every logger (tests run several
 * applications in one process). Lines are written in the background, coalesced while a write is in
 * flight; pino flushes what is pending when the process exits.
 */
let stdout: DestinationStream | undefined;
function stdoutStream(): DestinationStream {
  // A reader that stops reading (a stalled log shipper) costs lines beyond 16 MiB, not the process's memory.
  stdout ??= pino.destination({ dest: 1, sync: false, maxLength: 16 * 1024 * 1024 });
  return stdout;
}

/**
 * The logger for everything written by hand (Nest's and the service's own lines), with the
 * redaction list as a second line of defence; the request lines below carry fields this module
 * picks and need none.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // An error's name, message and stack only: its other properties (a failed query's parameters, say) may hold secrets.
      serializers: { err: (error: Error) => ({ type: error.name, message: error.message, stack: error.stack }) },
    },
    stdoutStream(),
  );
}

/** Nest's logger interface over pino: one JSON line per call, with Nest's context as `context`. */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest passes (message, context) or, for errors, (message, stack, context). */
  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const context = params.length > 0 && typeof params.at(-1) === 'string' ? (params.at(-1) as string) : undefined;
    const stack = params.length > 1 && typeof params[0] === 'string' ? params[0] : undefined;
    if (message instanceof Error) this.logger[level]({ context, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context, stack }, String(message));
  }
}

const pathOf = (url: string) => {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
};

/**
 * One JSON line per request when it ends: id, method, path (never the query string), client
 * address, status and time; a request whose client went away before the answer gets one line
 * saying so. No header is written at all, so no Authorization, Cookie or Set-Cookie can reach a
 * log line. Plain Fastify hooks rather than a middleware: no per-request child logger, no
 * request-scoped storage.
 */
export function logRequests(fastify: FastifyInstance, level: string): void {
  const logger = pino({ level }, stdoutStream());
  const aborted = new WeakSet<FastifyRequest>();
  const requestFields = (request: FastifyRequest, path: string) => ({ id: request.id, method: request.method, path, remoteAddress: request.ip });
  fastify
    .addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const path = pathOf(request.url);
      if (!UNLOGGED_PATHS.has(path) && !aborted.has(request)) {
        const status = reply.statusCode;
        // 503 is an expected answer (starting, database outage: logged once as a warning by the filter), not a bug.
        const lineLevel = status === 503 ? 'warn' : status >= 500 ? 'error' : 'info';
        if (logger.isLevelEnabled(lineLevel)) {
          logger[lineLevel](
            { req: requestFields(request, path), res: { statusCode: status }, responseTime: Math.round(reply.elapsedTime) },
            status >= 500 ? 'request errored' : 'request completed',
          );
        }
      }
      done();
    })
    .addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      // Fastify's onRequestAbort covers only uploads cut short; a client gone while we work is seen here.
      reply.raw.once('close', () => {
        if (reply.raw.writableFinished) return;
        const path = pathOf(request.url);
        aborted.add(request);
        if (!UNLOGGED_PATHS.has(path)) logger.info({ req: requestFields(request, path) }, 'request aborted');
      });
      done();
    });
}
