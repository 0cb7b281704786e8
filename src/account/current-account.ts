import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { ApiError } from '../common/errors/api-error.js';

/**
 * The user whose account a self-service route acts on. A service client's token has no account
 * here: 403 insufficient_role, as on every other route of this service it may not use.
 */
export const CurrentAccount = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (request.serviceClient !== undefined) throw ApiError.insufficientRole('A service client token has no account here');
  if (request.user === undefined) throw ApiError.invalidToken();
  return request.user;
});
