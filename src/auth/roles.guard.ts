import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { REQUIRED_ROLES } from '../common/auth/roles.decorator.js';
import { ApiError } from '../common/errors/api-error.js';
import { oncePerRoute } from '../common/route-metadata.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/**
 * Runs after AccessTokenGuard: a verified token without a required role is a 403. Under
 * ADMIN_REQUIRE_MFA a route that requires `admin` also requires a login that proved a second
 * factor (`otp` in the token's `amr`).
 */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly requiredRoles;

  constructor(
    reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.requiredRoles = oncePerRoute((handler, controller) => reflector.getAllAndMerge<string[]>(REQUIRED_ROLES, [handler, controller]));
  }

  canActivate(context: ExecutionContext): boolean {
    const required = this.requiredRoles(context);
    if (required.length === 0) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    // A service client's roles are for the services it calls; on this service's own routes they grant nothing.
    if (request.serviceClient !== undefined) throw ApiError.insufficientRole('A service client token carries no roles here');
    const user = request.user;
    if (user === undefined) throw ApiError.invalidToken();
    if (!required.every((role) => user.roles.includes(role))) {
      throw ApiError.insufficientRole('The access token lacks a role this route requires');
    }
    if (this.config.mfa.adminRequireMfa && required.includes('admin') && !(user.amr ?? []).includes('otp')) {
      throw ApiError.secondFactorRequired();
    }
    return true;
  }
}
