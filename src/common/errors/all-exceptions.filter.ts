import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { databaseUnavailableReason } from './database-unavailable.js';
import { databaseUnavailableError, toErrorBody } from './error-response.js';
import { OAUTH_ENDPOINTS, OAUTH_ERROR_HEADERS, toOAuthErrorBody } from './oauth-errors.js';

/**
 * The one place an error becomes a response; unexpected ones are logged with the request id and
 * their stack. A database outage is expected (restarts, failovers): 503 with Retry-After, and one
 * warning line naming the cause, no stack.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(thrown: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const unavailable = databaseUnavailableError(thrown);
    const exception = unavailable ?? thrown;
    const body = toErrorBody(exception);
    if (unavailable !== undefined) {
      this.logger.warn(
        `request ${request.id} ${request.method} ${request.routeOptions.url ?? 'unknown route'}: database unavailable ` +
          `(${databaseUnavailableReason(thrown)}); answered 503`,
      );
    } else if (exception instanceof ApiError && exception.detail !== undefined) {
      this.logger.debug(`request ${request.id}: ${body.statusCode} ${body.error} (${exception.detail})`);
    } else if (body.error === 'server_error') {
      const detail = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      this.logger.error(`request ${request.id} ${request.method} ${request.routeOptions.url ?? 'unknown route'} failed: ${detail}`);
    }
    if (exception instanceof ApiError) void reply.headers(exception.headers);
    if (OAUTH_ENDPOINTS.has(request.routeOptions.url ?? '')) {
      void reply.headers(OAUTH_ERROR_HEADERS).status(body.statusCode).send(toOAuthErrorBody(body));
      return;
    }
    void reply.status(body.statusCode).send(body);
  }
}
