import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { hardenHttp } from './common/http-hardening.js';
import { createLogger, logRequests, PinoLoggerService } from './common/logging.js';
import { serveOpenApi } from './common/openapi.js';
import { requestIdOf } from './common/request-id.js';
import { observeHttpRequests } from './metrics/http-metrics.js';
import type { AppConfig } from './config/app-config.js';

// Every request body this service accepts is a few hundred bytes; anything larger is refused unread.
export const BODY_LIMIT_BYTES = 16 * 1024;

// Above any URL Node's header limit (16 kB) lets through, so Fastify never answers an over-long
// path parameter with its own 414 body: the route's UUID_PARAM answers 400 in the contract's shape.
const MAX_PARAM_LENGTH = 16 * 1024;

const HEADERS_TIMEOUT_MS = 10_000;

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (oversized headers, garbage) still
 * get the contract's error shape.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = JSON.stringify({ statusCode: status, error: 'invalid_request', message: 'Malformed or oversized request' });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Beyond `maxConnections` Node closes each new connection as it arrives, before any parsing, while
 * the connections already open keep being served; a slow sender must finish its headers within 10 s.
 */
function limitConnections(app: NestFastifyApplication, config: AppConfig): void {
  const server = app.getHttpServer() as Server;
  server.maxConnections = config.http.maxConnections;
  server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, config.http.requestTimeoutMs);
}

/** Builds the application exactly as production runs it; main.ts and the e2e tests both use this. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    // Socket inactivity: closes connections that never send a request (or stall in one), so idle
    // sockets cannot pile up to the connection limit.
    connectionTimeout: config.http.idleTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    requestTimeout: config.http.requestTimeoutMs,
    clientErrorHandler: answerClientError,
    genReqId: requestIdOf,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoLoggerService(createLogger(config.logLevel)),
    // Let a failed boot reach the caller (and its message the log) instead of aborting the process.
    abortOnError: false,
  });
  limitConnections(app, config);
  try {
    logRequests(app.getHttpAdapter().getInstance(), config.logLevel);
    observeHttpRequests(app);
    hardenHttp(app, config);
    await app.register(fastifyCookie);
    serveOpenApi(app, config);
    await app.init();
  } catch (error) {
    // Release what did start (the database pool, timers) so a failed boot leaves nothing behind.
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}
