import { ApiProperty } from '@nestjs/swagger';

/** A public RSA signing key as published (RFC 7517); private members never appear. */
export class PublicJwkDto {
  @ApiProperty() kid!: string;
  @ApiProperty({ enum: ['RSA'] }) kty!: 'RSA';
  @ApiProperty({ description: 'Modulus, base64url' }) n!: string;
  @ApiProperty({ description: 'Public exponent, base64url' }) e!: string;
  @ApiProperty({ enum: ['RS256'] }) alg!: 'RS256';
  @ApiProperty({ enum: ['sig'] }) use!: 'sig';
}

export class JwksDto {
  @ApiProperty({ type: [PublicJwkDto], description: 'Every key that may still verify a live token: next, active and retired' })
  keys!: PublicJwkDto[];
}

/** RFC 8414 authorization server metadata (also served as OpenID discovery). */
export class DiscoveryDto {
  @ApiProperty() issuer!: string;
  @ApiProperty() jwks_uri!: string;
  @ApiProperty() token_endpoint!: string;
  @ApiProperty() revocation_endpoint!: string;
  @ApiProperty() introspection_endpoint!: string;
  @ApiProperty({ type: [String] }) grant_types_supported!: string[];
  @ApiProperty({ type: [String] }) response_types_supported!: string[];
  @ApiProperty({ type: [String] }) token_endpoint_auth_methods_supported!: string[];
  @ApiProperty({ type: [String] }) token_endpoint_auth_signing_alg_values_supported!: string[];
  @ApiProperty({ type: [String] }) introspection_endpoint_auth_methods_supported!: string[];
  @ApiProperty({ type: [String] }) introspection_endpoint_auth_signing_alg_values_supported!: string[];
  @ApiProperty({ type: [String] }) revocation_endpoint_auth_methods_supported!: string[];
  @ApiProperty({ type: [String] }) revocation_endpoint_auth_signing_alg_values_supported!: string[];
  @ApiProperty({ type: [String] }) subject_types_supported!: string[];
}

export class SigningKeySummaryDto {
  @ApiProperty() kid!: string;
  @ApiProperty({ enum: ['next', 'active', 'retired'] }) state!: 'next' | 'active' | 'retired';
  @ApiProperty({ type: String, format: 'date-time' }) created_at!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) activates_at!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) retires_at!: Date | null;
}

export class RotatedKeyDto {
  @ApiProperty() kid!: string;
  @ApiProperty({ enum: ['next'] }) state!: 'next';
  @ApiProperty({ type: String, format: 'date-time', description: 'When it starts to sign (after KEY_PUBLISH_AHEAD)' }) activates_at!: Date;
}
