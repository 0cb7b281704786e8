import { RequestMethod } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config.js';
import { requestIdOf } from './request-id.js';

/** Probes and scrapes would drown the log; their answers are in the metrics. */
const UNLOGGED_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

const pathOf = (url: string | undefined) => (url ?? '').split('?')[0] ?? '';

/**
 * One JSON line per request: id, method, path (never the query string), status and time. No
 * header is serialised at all, so no Authorization, Cookie or Set-Cookie can reach a log line; the
 * redaction list is the second line of defence for anything logged by hand.
 */
export function loggerParams(config: AppConfig): Params {
  return {
    // Explicit: nestjs-pino's default pattern ('{/*splat}') matches no route under the Fastify adapter.
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.logLevel,
      genReqId: (request: IncomingMessage) => requestIdOf(request),
      // Nest runs this as middleware (middie), which strips `url` to the part after the mount point while it
      // runs; `originalUrl` keeps the path the client asked for.
      autoLogging: {
        ignore: (request: IncomingMessage & { originalUrl?: string }) => UNLOGGED_PATHS.has(pathOf(request.originalUrl ?? request.url)),
      },
      // 503 is an expected answer (starting, database outage: logged once as a warning by the filter), not a bug.
      customLogLevel: (_request: IncomingMessage, response: ServerResponse, error?: Error) =>
        response.statusCode === 503 ? 'warn' : error !== undefined || response.statusCode >= 500 ? 'error' : 'info',
      serializers: {
        req: (request: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: request.id,
          method: request.method,
          path: pathOf(request.url),
          remoteAddress: request.remoteAddress,
        }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
        // pino-http's own "failed with status code 5xx" error; the cause is logged by the exception filter.
        err: (error: { message: string }) => ({ message: error.message }),
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.access_token',
          '*.refresh_token',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
  };
}
