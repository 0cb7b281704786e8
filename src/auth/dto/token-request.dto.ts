import { ApiError } from '../../common/errors/api-error.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ClientCredentialsDto } from './client-credentials.dto.js';
import { plainToInstance } from 'class-transformer';
import { IsOptional, IsString, MaxLength, validateSync } from 'class-validator';

/** POST /oauth/token, form-encoded (RFC 6749 §4.4.2, §6; RFC 7523 §2.2 for the assertion). */
export class TokenRequestDto extends ClientCredentialsDto {
  @ApiProperty({ enum: ['refresh_token', 'client_credentials'] })
  @IsString()
  @MaxLength(256)
  grant_type!: string;

  @ApiPropertyOptional({ description: 'grant_type=refresh_token' })
  @IsOptional()
  @IsString()
  // Longer than any refresh token, so a wrong kind of token (an access token) is an invalid_grant, not a malformed request.
  @MaxLength(8192)
  refresh_token?: string;

  @ApiPropertyOptional({ description: 'grant_type=client_credentials: space-separated, a subset of the client’s scopes (default: all of them)' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  scope?: string;
}

/**
 * Validates the token request by hand rather than with the global pipe: RFC 6749 §3.2 says the
 * token endpoint MUST ignore parameters it does not know (the global pipe refuses them), and a
 * parameter sent twice (parsed as an array) is an invalid_request (§3.1).
 */
export function parseTokenRequest(body: unknown): TokenRequestDto {
  const request = plainToInstance(TokenRequestDto, typeof body === 'object' && body !== null ? body : {});
  const errors = validateSync(request, { whitelist: true, forbidNonWhitelisted: false, validationError: { target: false, value: false } });
  if (errors.length > 0) {
    const problems = errors.flatMap((error) => Object.values(error.constraints ?? {}));
    throw ApiError.invalidRequest(problems.join('; ') || 'Invalid token request');
  }
  return request;
}
