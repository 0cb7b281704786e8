import { Injectable } from '@nestjs/common';
import { EmailVerification } from '../account/email-verification.service.js';
import { ClientsRepository } from '../clients/clients.repository.js';
import { Clock } from '../common/clock.js';
import { hashRefreshToken, REFRESH_TOKEN_PATTERN } from '../sessions/refresh-token-crypto.js';
import { RevocationList } from '../sessions/revocation-list.service.js';
import { isSessionLive } from '../sessions/sessions.service.js';
import { SessionsRepository } from '../sessions/sessions.repository.js';
import {
  AccessTokenService,
  isClientToken,
  type AccessTokenClaims,
  type ClientAccessTokenClaims,
  type UserAccessTokenClaims,
} from './access-token.service.js';

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

const INACTIVE: IntrospectionResponse = { active: false };

/**
 * RFC 7662 for services that want a live answer: beyond the guard's in-memory check, this asks
 * the database, so a revocation shows at once. What the database knows and this replica did not
 * yet is taken into its list, so the guard here agrees from then on. Anything not valid now is
 * just `active: false`.
 */
@Injectable()
export class IntrospectionService {
  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly sessions: SessionsRepository,
    private readonly revocationList: RevocationList,
    private readonly clients: ClientsRepository,
    private readonly clock: Clock,
    private readonly verification: EmailVerification,
  ) {}

  async introspect(token: string): Promise<IntrospectionResponse> {
    if (REFRESH_TOKEN_PATTERN.test(token)) return this.introspectRefreshToken(token);
    let claims: AccessTokenClaims;
    try {
      claims = this.accessTokens.verify(token);
    } catch {
      return INACTIVE;
    }
    if (isClientToken(claims)) return (await this.isClientTokenLive(claims)) ? { active: true, token_type: 'access_token', ...claims } : INACTIVE;
    if (!(await this.isAccessTokenLive(claims))) return INACTIVE;
    // Live from the database, like the rest of the answer: a token issued before the link was opened says false.
    const emailVerified = await this.verification.isVerified(claims.sub, claims.email_verified, true);
    return { active: true, token_type: 'access_token', username: claims.email, ...claims, email_verified: emailVerified };
  }

  private async introspectRefreshToken(presented: string): Promise<IntrospectionResponse> {
    const token = await this.sessions.findToken(hashRefreshToken(presented));
    const now = this.clock.now();
    if (token === null || token.usedAt !== null || token.expiresAt <= now || !isSessionLive(token.session, token.session.user.disabled, now)) {
      return INACTIVE;
    }
    return {
      active: true,
      token_type: 'refresh_token',
      sub: token.session.userId,
      sid: token.sessionId,
      amr: token.session.amr,
      exp: Math.floor(token.expiresAt.getTime() / 1000),
    };
  }

  /**
   * A service client's token: its client must still exist, be enabled and at the token's
   * generation, and the token not revoked on its own. What the database knows goes into the list.
   */
  private async isClientTokenLive(claims: ClientAccessTokenClaims): Promise<boolean> {
    if (this.revocationList.isRevoked({ id: claims.sub, tokenId: claims.jti, tokenGeneration: claims.gen })) return false;
    const standing = await this.clients.tokenStanding(claims.client_id, claims.jti);
    if (standing === undefined) return false;
    const now = this.clock.now().getTime();
    if (standing.tokenRevokedAt !== null) this.revocationList.apply({ kind: 'token', id: claims.jti, at: standing.tokenRevokedAt.getTime() });
    if (standing.tokenGeneration > claims.gen) {
      this.revocationList.apply({
        kind: 'client',
        id: claims.client_id,
        generation: standing.tokenGeneration,
        at: standing.tokensRevokedAt?.getTime() ?? now,
      });
    }
    return !standing.disabled && !standing.deleted && standing.tokenRevokedAt === null && standing.tokenGeneration <= claims.gen;
  }

  private async isAccessTokenLive(claims: UserAccessTokenClaims): Promise<boolean> {
    if (this.revocationList.isRevoked({ id: claims.sub, sessionId: claims.sid, tokenGeneration: claims.gen })) return false;
    const standing = await this.sessions.accessTokenStanding(claims.sid, claims.sub);
    if (standing === undefined) return false;
    const now = this.clock.now();
    if (standing.sessionRevokedAt !== null) {
      this.revocationList.apply({ kind: 'session', id: claims.sid, at: standing.sessionRevokedAt.getTime() });
    }
    if (standing.tokenGeneration > claims.gen) {
      this.revocationList.apply({ kind: 'user', id: claims.sub, generation: standing.tokenGeneration, at: now.getTime() });
    }
    const session = { revokedAt: standing.sessionRevokedAt, expiresAt: standing.sessionExpiresAt };
    return isSessionLive(session, standing.disabled, now) && standing.tokenGeneration <= claims.gen;
  }
}
