import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IS_PUBLIC } from '../common/auth/public.decorator.js';
import { ApiError } from '../common/errors/api-error.js';
import { AccessTokenService } from './access-token.service.js';
import { bearerToken } from '../common/auth/authorization-header.js';

/**
 * Global and deny-by-default: every route needs a valid access token unless marked @Public().
 * Verification is CPU-only (in-memory keys and revocation list); no database on this path.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      void reply.header('www-authenticate', 'Bearer');
      throw ApiError.invalidToken();
    }
    try {
      const principal = this.tokens.authenticate(token);
      if (principal.kind === 'client') request.serviceClient = principal;
      else request.user = principal;
      return true;
    } catch (error) {
      void reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw error;
    }
  }
}
