import type { Session } from '../sessions/session.entity.js';

/** A session as admins see it; `id` is the `sid` claim of its access tokens. */
export interface SessionResponse {
  id: string;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Date | null;
}

export function toSessionResponse(session: Session): SessionResponse {
  return {
    id: session.id,
    created_at: session.createdAt,
    last_used_at: session.lastUsedAt,
    expires_at: session.expiresAt,
    ip: session.ip,
    user_agent: session.userAgent,
    revoked_at: session.revokedAt,
  };
}
