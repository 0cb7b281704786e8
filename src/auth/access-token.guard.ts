import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JsonWebTokenError } from '@nestjs/jwt';
import type { AuthenticatedPrincipal } from '../common/auth/authenticated-user.js';
import { bearerToken } from '../common/auth/authorization-header.js';
import { IS_PUBLIC } from '../common/auth/public.decorator.js';
import { ApiError } from '../common/errors/api-error.js';
import { oncePerRoute } from '../common/route-metadata.js';
import { AccessTokenService } from './access-token.service.js';
import { serveRequestWith } from './access-token.strategy.js';

/**
 * Global and deny-by-default: every route needs a valid access token unless marked @Public().
 * A token seen before is answered from AccessTokenService's memory (its key and lifetime checked
 * again, revocation always); a new one goes through passport-jwt (AccessTokenStrategy). CPU only:
 * in-memory keys and revocation list, no database on this path.
 */
@Injectable()
export class AccessTokenGuard extends AuthGuard('jwt') {
  private readonly isPublic;

  constructor(
    reflector: Reflector,
    private readonly tokens: AccessTokenService,
  ) {
    super();
    this.isPublic = oncePerRoute(
      (handler, controller) => reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [handler, controller]) === true,
    );
  }

  /** Synchronous for a token seen before, the common case: no promise on the hot path. */
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      void reply.header('www-authenticate', 'Bearer');
      throw ApiError.invalidToken();
    }
    const refused = (error: unknown): never => {
      void reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw error;
    };
    let remembered: AuthenticatedPrincipal | undefined;
    try {
      remembered = this.tokens.recall(token);
    } catch (error) {
      refused(error);
    }
    if (remembered !== undefined) return attach(request, remembered);
    serveRequestWith(request, this.tokens);
    return (super.canActivate(context) as Promise<boolean>).then(() => attach(request, request.user as AuthenticatedPrincipal), refused);
  }

  /** passport's verdict: whatever failed (header, signature, claims, revocation) is one 401. */
  override handleRequest<TUser>(error: unknown, principal: TUser | false, failure: unknown, context: ExecutionContext): TUser {
    // jsonwebtoken's words for a signature that failed under the key the provider gave it.
    if (failure instanceof JsonWebTokenError && failure.message === 'invalid signature') {
      this.tokens.rememberForged(bearerToken(context.switchToHttp().getRequest<FastifyRequest>().headers.authorization)!);
    }
    if (error instanceof ApiError) throw error;
    if (error || !principal) throw ApiError.invalidToken();
    return principal;
  }
}

/** A service client's token is kept apart, so no user-only route mistakes it for a user. */
function attach(request: FastifyRequest, principal: AuthenticatedPrincipal): true {
  if (principal.kind === 'client') {
    request.user = undefined;
    request.serviceClient = principal;
  } else {
    request.user = principal;
  }
  return true;
}
