import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who a verified user access token speaks for, as the guard leaves it on the request. */
export interface AuthenticatedUser {
  readonly kind?: 'user';
  readonly id: string;
  readonly email: string;
  readonly roles: readonly string[];
  readonly sessionId: string;
  readonly tokenId: string;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  /** The user's token generation when the token was issued (`gen`); older than the user's now = revoked. */
  readonly tokenGeneration: number;
  /** The `email_verified` claim; tokens from before it existed carry none. */
  readonly emailVerified?: boolean;
  /** The `amr` claim (RFC 8176); tokens from before it existed count as a password login. */
  readonly amr?: readonly string[];
}

/** A service client's own access token (client credentials): no user, no session. */
export interface AuthenticatedClient {
  readonly kind: 'client';
  /** The client_id, which is also the token's `sub`. */
  readonly id: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly tokenId: string;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The client's token generation when the token was issued (`gen`). */
  readonly tokenGeneration: number;
}

export type AuthenticatedPrincipal = AuthenticatedUser | AuthenticatedClient;

declare module 'fastify' {
  interface FastifyRequest {
    user?: AuthenticatedUser;
    /** Set instead of `user` when the token is a service client's. */
    serviceClient?: AuthenticatedClient;
  }
}

/** The user or the service client the token speaks for (routes that serve both, such as /auth/me). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedPrincipal => {
  const request = context.switchToHttp().getRequest<{ user?: AuthenticatedUser; serviceClient?: AuthenticatedClient }>();
  const principal = request.user ?? request.serviceClient;
  if (principal === undefined) throw new Error('@CurrentPrincipal() used on a route without an authenticated caller');
  return principal;
});

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
  if (user === undefined) throw new Error('@CurrentUser() used on a route without an authenticated user');
  return user;
});
