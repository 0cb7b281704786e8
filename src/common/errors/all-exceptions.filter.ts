import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { toErrorBody } from './error-response.js';

/** The one place an error becomes a response; unexpected ones are logged with the request id. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = toErrorBody(exception);
    if (body.error === 'server_error') {
      const detail = exception instanceof Error ? exception.stack ?? exception.message : String(exception);
      this.logger.error(`request ${request.id} ${request.method} ${request.routeOptions.url ?? 'unknown route'} failed: ${detail}`);
    }
    if (exception instanceof ApiError) void reply.headers(exception.headers);
    void reply.status(body.statusCode).send(body);
  }
}
