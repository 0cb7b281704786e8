import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../config/app-config.js';
import { ApiError } from './errors/api-error.js';
import { FORM_ONLY_ENDPOINTS, OAUTH_ENDPOINTS } from './errors/oauth-errors.js';
import { holdsForbiddenText } from './validation.js';

// The OpenAPI UI is the one HTML page: it may load its own scripts, styles and images.
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

// No request body of this service nests more than a few levels; deeper JSON only probes for
// recursion limits in the validation and transformation libraries.
const MAX_BODY_DEPTH = 16;

/** Iterative, so the check itself cannot overflow the stack it protects. */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase();
}

/**
 * helmet's headers for this configuration, worked out once at boot: helmet's middleware sets the
 * same headers on every response, so running it per request (a dozen setHeader calls, its
 * directive parsing) only repeats the answer.
 */
function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: string | number) => void headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => void headers.delete(name.toLowerCase()),
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined) throw error;
  });
  return Object.fromEntries(headers);
}

/** Rejects a body in a media type its route does not take; undefined when the request may go on. */
function refusedMediaType(request: FastifyRequest): ApiError | undefined {
  const hasBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
  if (!hasBody || request.headers['content-length'] === '0') return undefined;
  const type = mediaType(request.headers['content-type']);
  const route = request.routeOptions.url ?? '';
  // The OAuth endpoints take the RFC form encoding (RFC 6749 §4.4.2, RFC 7662 §2.1, RFC 7009 §2.1);
  // the token endpoint only that, answered in RFC 6749 §5.2's terms. Every other route takes JSON only.
  if (FORM_ONLY_ENDPOINTS.has(route)) {
    return type === 'application/x-www-form-urlencoded'
      ? undefined
      : ApiError.invalidRequest('Content-Type must be application/x-www-form-urlencoded');
  }
  if (type === 'application/json') return undefined;
  if (type === 'application/x-www-form-urlencoded' && OAUTH_ENDPOINTS.has(route)) return undefined;
  return ApiError.unsupportedMediaType('Content-Type must be application/json');
}

/**
 * Security headers, CORS and content-type rules, applied before any route sees a request. The
 * hooks take Fastify's `done` callback rather than returning a promise: they run on every request.
 */
export function hardenHttp(app: NestFastifyApplication, config: AppConfig): void {
  const headers = securityHeaders({
    // A JSON API: its responses are never a document to render, frame or run scripts from.
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    strictTransportSecurity: config.http.hstsMaxAgeSeconds > 0 ? { maxAge: config.http.hstsMaxAgeSeconds, includeSubDomains: true } : false,
  });

  // Off unless configured; then only the listed origins are echoed, never "*" or any origin asked for.
  if (config.http.corsOrigins.length > 0) {
    app.enableCors({ origin: config.http.corsOrigins, credentials: true, methods: ['GET', 'POST', 'PATCH', 'DELETE'], maxAge: 600 });
  }

  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      void reply.headers(headers);
      done(refusedMediaType(request));
    })
    .addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
      if (request.url === '/docs' || request.url.startsWith('/docs/')) void reply.header('content-security-policy', DOCS_CSP);
      done(null, payload);
    })
    .addHook('preValidation', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (nestsDeeperThan(request.body, MAX_BODY_DEPTH)) return done(ApiError.invalidRequest('Request body is nested too deeply'));
      // Checked on the values as parsed (JSON escapes and percent-encoding already decoded), before
      // validation; an unknown route stays a plain 404 whatever its path holds.
      if (!request.is404 && (holdsForbiddenText(request.body) || holdsForbiddenText(request.query) || holdsForbiddenText(request.params))) {
        return done(ApiError.invalidRequest('Request holds control characters or ill-formed Unicode'));
      }
      done();
    });
}

/** The origins a browser may send cookie-mode refresh and logout from: the issuer's and the CORS list. */
export function allowedBrowserOrigins(config: AppConfig): Set<string> {
  return new Set([new URL(config.tokens.issuer).origin, ...config.http.corsOrigins]);
}
