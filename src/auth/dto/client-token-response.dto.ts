import { ApiProperty } from '@nestjs/swagger';

/** RFC 6749 §4.4.3: the client credentials grant's answer; no refresh token. */
export class ClientTokenResponseDto {
  @ApiProperty({ description: 'RS256 JWT (RFC 9068), sub = client_id = the client’s id' })
  access_token!: string;

  @ApiProperty({ example: 'Bearer' })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires' })
  expires_in!: number;

  @ApiProperty({ description: 'The scopes granted, space-separated (may be empty)' })
  scope!: string;
}
