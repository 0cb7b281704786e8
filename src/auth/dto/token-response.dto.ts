import { ApiProperty } from '@nestjs/swagger';
/** RFC 6749 §5.1 field names. */
export class TokenResponseDto {
  @ApiProperty({ description: 'RS256 JWS, typ at+jwt' })
  access_token!: string;
  @ApiProperty({ enum: ['Bearer'] })
  token_type!: 'Bearer';
  @ApiProperty({ example: 900 })
  /** Seconds until the access token expires. */
  expires_in!: number;
  @ApiProperty({ description: 'Opaque, 43 URL-safe characters' })
  refresh_token!: string;
  @ApiProperty({ example: 1209600 })
  /** Seconds until the refresh token expires if unused (idle limit, capped by the session's end). */
  refresh_expires_in!: number;
}
