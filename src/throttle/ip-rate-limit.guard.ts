import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { RateLimiter } from './rate-limiter.js';

const RATE_LIMIT_SCOPE = 'rateLimitScope';

/** Puts a route under the per-client budget RATE_LIMIT_IP_PER_MINUTE, counted per scope. */
export const RateLimited = (scope: string): MethodDecorator => SetMetadata(RATE_LIMIT_SCOPE, scope);

/** Global; only routes marked @RateLimited() are counted. Runs before the body is validated. */
@Injectable()
export class IpRateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly rateLimiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scope = this.reflector.get<string | undefined>(RATE_LIMIT_SCOPE, context.getHandler());
    if (scope !== undefined) await this.rateLimiter.count(scope, context.switchToHttp().getRequest<FastifyRequest>().ip);
    return true;
  }
}
