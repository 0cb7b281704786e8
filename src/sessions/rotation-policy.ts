/** The pure rules of refresh-token rotation; SessionsService applies them inside its transaction. */

export interface RefreshLifetimes {
  readonly idleTtlSeconds: number;
  readonly reuseGraceSeconds: number;
}

/** A new refresh token lives for the idle lifetime, but never past the session's absolute end. */
export function refreshTokenExpiry(now: Date, sessionExpiresAt: Date, lifetimes: RefreshLifetimes): Date {
  return new Date(Math.min(now.getTime() + lifetimes.idleTtlSeconds * 1000, sessionExpiresAt.getTime()));
}

/**
 * A spent token presented again is a client's retry only while the grace window since its
 * rotation is open and its successor has not been used; anything else means a second party holds
 * the token family (RFC 9700 §4.14.2), and the whole session must end.
 */
export function isGraceRetry(spent: { usedAt: Date; successorUsed: boolean }, now: Date, lifetimes: RefreshLifetimes): boolean {
  return !spent.successorUsed && now.getTime() - spent.usedAt.getTime() <= lifetimes.reuseGraceSeconds * 1000;
}
