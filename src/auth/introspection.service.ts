import { Injectable } from '@nestjs/common';
import { SessionsService } from '../sessions/sessions.service.js';
import { AccessTokenService } from './access-token.service.js';

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

const INACTIVE: IntrospectionResponse = { active: false };

/**
 * RFC 7662 for services that want a live answer: unlike the guard's in-memory check, this asks
 * the database, so a revocation shows at once. Anything not valid now is just `active: false`.
 */
@Injectable()
export class IntrospectionService {
  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly sessions: SessionsService,
  ) {}

  async introspect(token: string): Promise<IntrospectionResponse> {
    const refresh = await this.sessions.describeRefreshToken(token);
    if (refresh !== undefined) {
      return {
        active: true,
        token_type: 'refresh_token',
        sub: refresh.userId,
        sid: refresh.sessionId,
        exp: Math.floor(refresh.expiresAt.getTime() / 1000),
      };
    }
    let claims;
    try {
      claims = this.accessTokens.verifiedClaims(token);
    } catch {
      return INACTIVE;
    }
    if (!(await this.sessions.isAccessTokenLive(claims.sid, claims.sub, claims.iat))) return INACTIVE;
    return { active: true, token_type: 'access_token', username: claims.email, ...claims };
  }
}
