import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClientAuthenticator, credentialParameters } from '../clients/client-authenticator.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AccessTokenService } from './access-token.service.js';
import { bearerToken } from '../common/auth/authorization-header.js';

/**
 * Introspection and revocation-feed callers: a registered service client, authenticated with the
 * method it was registered with (HTTP Basic, client_secret_post or private_key_jwt in a POST body),
 * or an admin with a Bearer token. Runs before validation, so it reads the raw body.
 */
@Injectable()
export class IntrospectionCallerGuard implements CanActivate {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly tokens: AccessTokenService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();

    const bearer = bearerToken(request.headers.authorization);
    if (bearer !== undefined) {
      const principal = this.tokens.authenticate(bearer);
      if (principal.kind === 'client' || !principal.roles.includes('admin')) {
        throw ApiError.insufficientRole('Introspection needs service credentials or the admin role');
      }
      // ADMIN_REQUIRE_MFA holds here as on the @Roles('admin') routes (see RolesGuard).
      if (this.config.mfa.adminRequireMfa && !(principal.amr ?? []).includes('otp')) throw ApiError.secondFactorRequired();
      return true;
    }
    const caller = await this.clients.authenticate(request, credentialParameters(request.body), request.routeOptions.url ?? '');
    if (caller.kind === 'confidential') return true;

    // RFC 6750 §3 / RFC 6749 §5.2: tell a caller without credentials which scheme to use.
    void http.getResponse<FastifyReply>().header('www-authenticate', 'Basic realm="auth-service", charset="UTF-8"');
    throw ApiError.invalidClient(false);
  }
}
