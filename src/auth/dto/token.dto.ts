import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ClientCredentialsDto } from './client-credentials.dto.js';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * RFC 7662 §2.1 / RFC 7009 §2.1 request, JSON or form-encoded, with the client authentication
 * parameters of RFC 6749 §2.3.1 (client_secret_post, or `none`: client_id alone) and RFC 7523
 * §2.2 (private_key_jwt). The caller guard or the controller checks those.
 */
export class TokenDto extends ClientCredentialsDto {
  @ApiProperty({ description: 'An access token or a refresh token' })
  @IsString()
  @MaxLength(8192)
  token!: string;

  @ApiPropertyOptional({ enum: ['access_token', 'refresh_token'] })
  /** Accepted and ignored: both token kinds are recognised by their form. */
  @IsOptional()
  @IsIn(['access_token', 'refresh_token'])
  token_type_hint?: string;
}
