import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * RFC 7662 §2.1 / RFC 7009 §2.1 request, JSON or form-encoded, with the client authentication
 * parameters of RFC 6749 §2.3.1 (client_secret_post, or `none`: client_id alone) and RFC 7523
 * §2.2 (private_key_jwt). The caller guard or the controller checks those.
 */
export class TokenDto {
  @ApiProperty({ description: 'An access token or a refresh token' })
  @IsString()
  @MaxLength(8192)
  token!: string;

  @ApiPropertyOptional({ enum: ['access_token', 'refresh_token'] })
  /** Accepted and ignored: both token kinds are recognised by their form. */
  @IsOptional()
  @IsIn(['access_token', 'refresh_token'])
  token_type_hint?: string;

  @ApiPropertyOptional({ description: 'client_secret_post, private_key_jwt, or alone for a public client (revocation)' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  client_id?: string;

  @ApiPropertyOptional({ description: 'client_secret_post' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  client_secret?: string;

  @ApiPropertyOptional({ description: 'private_key_jwt: a JWT signed with one of the client’s registered keys (RFC 7523)' })
  @IsOptional()
  @IsString()
  @MaxLength(8192)
  client_assertion?: string;

  @ApiPropertyOptional({ enum: ['urn:ietf:params:oauth:client-assertion-type:jwt-bearer'] })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  client_assertion_type?: string;
}
