import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** RFC 7662 §2.2: `{active: false}` for anything not valid now; the claims when it is. */
export class IntrospectionResponseDto {
  @ApiProperty() active!: boolean;
  @ApiPropertyOptional({ enum: ['access_token', 'refresh_token'] }) token_type?: string;
  @ApiPropertyOptional() sub?: string;
  @ApiPropertyOptional() client_id?: string;
  @ApiPropertyOptional({ description: 'User tokens: the session' }) sid?: string;
  @ApiPropertyOptional({ type: [String] }) roles?: string[];
  @ApiPropertyOptional({ type: [String], description: 'User tokens: RFC 8176 authentication methods (pwd, otp)' }) amr?: string[];
  @ApiPropertyOptional({ description: 'Service-client tokens: space-separated' }) scope?: string;
  @ApiPropertyOptional() username?: string;
  @ApiPropertyOptional() email?: string;
  @ApiPropertyOptional() iss?: string;
  @ApiPropertyOptional() aud?: string;
  @ApiPropertyOptional() jti?: string;
  @ApiPropertyOptional({ type: 'integer' }) exp?: number;
  @ApiPropertyOptional({ type: 'integer' }) iat?: number;
  @ApiPropertyOptional({ type: 'integer' }) nbf?: number;
  @ApiPropertyOptional({ type: 'integer' }) gen?: number;
}
