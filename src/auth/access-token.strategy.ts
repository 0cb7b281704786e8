import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthenticatedPrincipal } from '../common/auth/authenticated-user.js';
import { bearerToken } from '../common/auth/authorization-header.js';
import { AccessTokenService } from './access-token.service.js';

/**
 * The AccessTokenService of the application a request arrived at. passport keeps one strategy per
 * name for the whole process, so where several applications share a process (the tests' replicas)
 * the registered strategy may be another one's: each request names its own service instead, set by
 * AccessTokenGuard before passport runs.
 */
const serviceOfRequest = new WeakMap<object, AccessTokenService>();

export function serveRequestWith(request: object, tokens: AccessTokenService): void {
  serviceOfRequest.set(request, tokens);
}

/**
 * passport-jwt over the in-memory key set: the key comes from our own keys by the header's kid
 * (after the header checks of accessTokenVerificationKey), jsonwebtoken checks the RS256
 * signature, and validate() the issuer, audience, times, claims and revocation.
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(private readonly tokens: AccessTokenService) {
    const { algorithms, ignoreExpiration, ignoreNotBefore } = tokens.verifyOptions();
    super({
      // The Authorization header only, in our strict Bearer syntax: never a query string or cookie.
      jwtFromRequest: ExtractJwt.fromExtractors([(request: FastifyRequest) => bearerToken(request.headers.authorization) ?? null]),
      secretOrKeyProvider: (request: FastifyRequest, rawToken: string, done: (error: unknown, key?: string) => void) => {
        try {
          // A KeyObject: jsonwebtoken takes one, though passport-jwt's types predate it.
          done(null, (serviceOfRequest.get(request) ?? tokens).verificationKey(rawToken) as unknown as string);
        } catch (error) {
          done(error);
        }
      },
      algorithms,
      ignoreExpiration,
      jsonWebTokenOptions: { ignoreNotBefore },
      passReqToCallback: true,
    });
  }

  validate(request: FastifyRequest, payload: Record<string, unknown>): AuthenticatedPrincipal {
    const tokens = serviceOfRequest.get(request) ?? this.tokens;
    return tokens.accept(bearerToken(request.headers.authorization)!, tokens.claimsOf(payload));
  }
}
