import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { oncePerRoute } from '../common/route-metadata.js';
import { RateLimiter } from './rate-limiter.js';

const RATE_LIMIT_SCOPE = 'rateLimitScope';

/** Puts a route under the per-client budget RATE_LIMIT_IP_PER_MINUTE, counted per scope. */
export const RateLimited = (scope: string): MethodDecorator => SetMetadata(RATE_LIMIT_SCOPE, scope);

/** Global; only routes marked @RateLimited() are counted. Runs before the body is validated. */
@Injectable()
export class IpRateLimitGuard implements CanActivate {
  private readonly scopeOf;

  constructor(
    reflector: Reflector,
    private readonly rateLimiter: RateLimiter,
  ) {
    this.scopeOf = oncePerRoute((handler) => reflector.get<string | undefined>(RATE_LIMIT_SCOPE, handler));
  }

  /** Synchronous on the routes it does not count: no promise on every request. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const scope = this.scopeOf(context);
    if (scope === undefined) return true;
    return this.rateLimiter.count(scope, context.switchToHttp().getRequest<FastifyRequest>().ip).then(() => true);
  }
}
