import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthenticatedPrincipal } from '../common/auth/authenticated-user.js';
import { bearerToken } from '../common/auth/authorization-header.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { KeysService } from '../keys/keys.service.js';
import { accessTokenVerificationKey } from './access-token-keys.js';
import { AccessTokenService } from './access-token.service.js';

/**
 * passport-jwt over the in-memory key set: the key comes from our own keys by the header's kid
 * (after the header checks of accessTokenVerificationKey), jsonwebtoken checks the RS256
 * signature, issuer and audience, and validate() the times, the claims and revocation.
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    private readonly tokens: AccessTokenService,
    keys: KeysService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const { algorithms, ignoreExpiration, ignoreNotBefore } = tokens.verifyOptions();
    const { issuer, audience } = config.tokens;
    super({
      // The Authorization header only, in our strict Bearer syntax: never a query string or cookie.
      jwtFromRequest: ExtractJwt.fromExtractors([(request: FastifyRequest) => bearerToken(request.headers.authorization) ?? null]),
      secretOrKeyProvider: (_request: unknown, rawToken: string, done: (error: unknown, key?: string) => void) => {
        try {
          // A KeyObject: jsonwebtoken takes one, though passport-jwt's types predate it.
          done(null, accessTokenVerificationKey(keys, rawToken) as unknown as string);
        } catch (error) {
          done(error);
        }
      },
      algorithms,
      issuer,
      audience,
      ignoreExpiration,
      jsonWebTokenOptions: { ignoreNotBefore },
      passReqToCallback: true,
    });
  }

  validate(request: FastifyRequest, payload: Record<string, unknown>): AuthenticatedPrincipal {
    return this.tokens.accept(bearerToken(request.headers.authorization)!, this.tokens.claimsOf(payload));
  }
}
