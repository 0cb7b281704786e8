import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../common/errors/api-error.js';
import { AccessTokenService } from './access-token.service.js';
import { basicCredentials, bearerToken } from './authorization-header.js';
import { ServiceClients } from './service-clients.js';

/** Introspection callers: a service with HTTP Basic credentials, or an admin with a Bearer token. */
@Injectable()
export class IntrospectionCallerGuard implements CanActivate {
  constructor(
    private readonly clients: ServiceClients,
    private readonly tokens: AccessTokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const { authorization } = http.getRequest<FastifyRequest>().headers;

    const bearer = bearerToken(authorization);
    if (bearer !== undefined) {
      if (!this.tokens.authenticate(bearer).roles.includes('admin')) {
        throw new ApiError(403, 'insufficient_role', 'Introspection needs service credentials or the admin role');
      }
      return true;
    }
    const credentials = basicCredentials(authorization);
    if (credentials !== undefined && this.clients.verify(credentials.clientId, credentials.secret)) return true;

    void http.getResponse<FastifyReply>().header('www-authenticate', 'Basic realm="introspection"');
    throw new ApiError(401, 'invalid_client', 'Service credentials or an admin access token are required');
  }
}
