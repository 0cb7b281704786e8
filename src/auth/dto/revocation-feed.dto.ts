import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** What the verifier kit polls: revoked sessions, oldest valid generations, revoked client tokens. */
export class RevocationFeedDto {
  @ApiProperty({ description: 'Changes with every revocation; the ETag' }) version!: number;
  @ApiProperty({ type: [String], description: 'Revoked session ids (the sid claim)' }) sessions!: string[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, description: 'sub → the oldest gen still valid' })
  generations!: Record<string, number>;
  @ApiPropertyOptional({ type: [String], description: 'Revoked service-client tokens (the jti claim)' }) tokens?: string[];
}
