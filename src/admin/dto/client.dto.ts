import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { CLIENT_AUTH_METHODS, type ClientAuthMethod } from '../../clients/service-client.entity.js';
import { PageQuery } from './page.query.js';

const trimmed = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

/** RFC 6749 §3.3 scope-token, at most 64 characters. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;
/** The users' role syntax (UpdateUserDto). */
const ROLE = /^[a-z][a-z0-9_.-]{0,31}$/;
/** A day: services that deploy daily have rolled the new secret out by then. */
export const DEFAULT_PREVIOUS_SECRET_TTL = 86_400;
const MAX_PREVIOUS_SECRET_TTL = 30 * 86_400;

const JWKS_DESCRIPTION = 'private_key_jwt: public keys only ({keys: [...]}; RSA ≥ 2048 bits, EC P-256/384/521, Ed25519); private members are refused';

export class CreateClientDto {
  @ApiProperty({ example: 'billing' })
  @Transform(trimmed)
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({ type: [String], example: ['invoices:read'], description: 'What it may request; none asked = all of these' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @Matches(SCOPE, { each: true, message: 'each scope must be 1 to 64 characters of RFC 6749 §3.3 (no space, " or \\\\)' })
  scopes?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Put in its access tokens as `roles` (omitted when empty)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @Matches(ROLE, { each: true, message: 'each role must be a lower-case name of up to 32 characters' })
  roles?: string[];

  @ApiProperty({ enum: CLIENT_AUTH_METHODS })
  @IsIn(CLIENT_AUTH_METHODS)
  auth_method!: ClientAuthMethod;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: JWKS_DESCRIPTION })
  @IsOptional()
  @IsObject()
  jwks?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'private_key_jwt, instead of jwks: an https URL of the client’s JWK set (fetched and cached)' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  jwks_uri?: string;
}

export class UpdateClientDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ type: [String], description: 'Changing scopes voids the client’s live tokens' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @Matches(SCOPE, { each: true, message: 'each scope must be 1 to 64 characters of RFC 6749 §3.3 (no space, " or \\\\)' })
  scopes?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Changing roles voids the client’s live tokens' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @Matches(ROLE, { each: true, message: 'each role must be a lower-case name of up to 32 characters' })
  roles?: string[];

  @ApiPropertyOptional({ description: 'Disabling refuses its live tokens on every replica at once' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: JWKS_DESCRIPTION })
  @IsOptional()
  @IsObject()
  jwks?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'private_key_jwt, instead of jwks' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  jwks_uri?: string;
}

export class RotateClientSecretDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_PREVIOUS_SECRET_TTL,
    default: DEFAULT_PREVIOUS_SECRET_TTL,
    description: 'Seconds the old secret keeps working; 0 ends it now',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_PREVIOUS_SECRET_TTL)
  previous_secret_ttl?: number;
}

export class ListClientsQuery extends PageQuery {}
