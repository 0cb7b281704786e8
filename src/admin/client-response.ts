import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ServiceClient } from '../clients/service-client.entity.js';
import { CLIENT_AUTH_METHODS, type ClientAuthMethod } from '../clients/service-client.entity.js';

/** A service client as admins see it: never a secret or its hash. */
export class ClientResponseDto {
  @ApiProperty({ format: 'uuid', description: 'The handle of /admin/clients/:id' })
  id!: string;

  @ApiProperty({ description: 'The OAuth client_id (equal to id, except for clients INTROSPECTION_CLIENTS created)' })
  client_id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: [String] })
  scopes!: string[];

  @ApiProperty({ type: [String] })
  roles!: string[];

  @ApiProperty({ enum: CLIENT_AUTH_METHODS })
  auth_method!: ClientAuthMethod;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  jwks!: object | null;

  @ApiPropertyOptional({ nullable: true })
  jwks_uri!: string | null;

  @ApiProperty()
  disabled!: boolean;

  @ApiPropertyOptional({ nullable: true, description: 'Until when the secret before the last rotation still works' })
  previous_secret_expires_at!: Date | null;

  @ApiProperty()
  created_at!: Date;

  @ApiProperty()
  updated_at!: Date;
}

export class CreatedClientResponseDto extends ClientResponseDto {
  @ApiPropertyOptional({ description: 'Shown this once (not for private_key_jwt clients); only its hash is stored' })
  client_secret?: string;
}

export class RotatedSecretResponseDto {
  @ApiProperty({ description: 'Shown this once; only its hash is stored' })
  client_secret!: string;

  @ApiProperty({ description: 'Until when the previous secret still works (now, for previous_secret_ttl 0)' })
  previous_secret_expires_at!: Date;
}

export function toClientResponse(client: ServiceClient, now: Date): ClientResponseDto {
  const previousLive = client.previousSecretExpiresAt !== null && client.previousSecretExpiresAt > now;
  return {
    id: client.id,
    client_id: client.clientId,
    name: client.name,
    scopes: client.scopes,
    roles: client.roles,
    auth_method: client.authMethod,
    jwks: client.jwks,
    jwks_uri: client.jwksUri,
    disabled: client.disabled,
    previous_secret_expires_at: previousLive ? client.previousSecretExpiresAt : null,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  };
}
