import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { OAuthCaller } from '../clients/client-authenticator.js';
import type { ClientContext } from '../common/client-context.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { REFRESH_TOKEN_PATTERN } from '../sessions/refresh-token-crypto.js';
import { Revocations } from '../sessions/revocations.js';
import { AccessTokenService, isClientToken, type AccessTokenClaims } from './access-token.service.js';
import { AuthService } from './auth.service.js';

/**
 * RFC 7009 revocation, by whoever holds the token. A client that authenticated (or, public, named
 * itself) may only revoke tokens issued to it (§2.1): user sessions belong to the first-party
 * client; anything else it sends is answered 200 and left alone, like an unknown token (§2.2).
 * A caller without client authentication may revoke any token it holds, as before service clients
 * existed: holding the token is the authority to end it.
 */
@Injectable()
export class TokenRevocationService {
  constructor(
    private readonly auth: AuthService,
    private readonly accessTokens: AccessTokenService,
    private readonly revocations: Revocations,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async revoke(token: string, caller: OAuthCaller, context: ClientContext): Promise<void> {
    const issuedToCaller = (clientId: string) => caller.kind === 'anonymous' || caller.clientId === clientId;
    if (REFRESH_TOKEN_PATTERN.test(token)) {
      if (issuedToCaller(this.config.tokens.firstPartyClientId)) await this.auth.revoke(token, context);
      return;
    }
    let claims: AccessTokenClaims;
    try {
      claims = this.accessTokens.verify(token);
    } catch {
      return;
    }
    if (!issuedToCaller(claims.client_id)) return;
    if (!isClientToken(claims)) {
      await this.auth.revoke(token, context);
      return;
    }
    // A client token has no session: it alone is refused, by jti, until it expires.
    await this.revocations.transaction(async (revoke) => {
      if (!(await revoke.revokeClientToken(claims.jti, claims.client_id, new Date(claims.exp * 1000)))) return;
      await this.audit.record(
        {
          type: 'client_token_revoked',
          client: context,
          details: { client_id: claims.client_id, by: caller.kind === 'anonymous' ? null : caller.clientId },
        },
        revoke.manager,
      );
    });
  }
}
