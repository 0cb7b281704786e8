import { ApiProperty } from '@nestjs/swagger';
import type { Session } from '../sessions/session.entity.js';

/** A session as admins see it; `id` is the `sid` claim of its access tokens. */
export class SessionResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, format: 'date-time' }) created_at!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) last_used_at!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) expires_at!: Date;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) user_agent!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revoked_at!: Date | null;
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
