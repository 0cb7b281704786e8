import { ApiProperty } from '@nestjs/swagger';

/** RFC 6749 §5.2 error, as the OAuth endpoints answer it (with the contract's statusCode and message beside). */
export class OAuthErrorDto {
  @ApiProperty({
    enum: ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'rate_limited'],
  })
  error!: string;

  @ApiProperty()
  error_description!: string;

  @ApiProperty()
  statusCode!: number;

  @ApiProperty()
  message!: string;
}
