import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who a verified access token speaks for, as the guard leaves it on the request. */
export interface AuthenticatedUser {
  readonly id: string;
  readonly email: string;
  readonly roles: readonly string[];
  readonly sessionId: string;
  readonly tokenId: string;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  /** The user's token generation when the token was issued (`gen`); older than the user's now = revoked. */
  readonly tokenGeneration: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: AuthenticatedUser;
  }
}

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
  if (user === undefined) throw new Error('@CurrentUser() used on a route without an authenticated user');
  return user;
});
