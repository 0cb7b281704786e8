import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * The client authentication parameters a request body may carry (RFC 6749 §2.3.1: client_secret_post,
 * or client_id alone for a public client; RFC 7523 §2.2: private_key_jwt). ClientAuthenticator checks them.
 */
export class ClientCredentialsDto {
  @ApiPropertyOptional({ description: 'client_secret_post and private_key_jwt; alone, the first-party public client' })
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
