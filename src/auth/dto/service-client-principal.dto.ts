import { ApiProperty } from '@nestjs/swagger';

/** GET /auth/me with a service client's own access token: the client it speaks for. */
export class ServiceClientPrincipalDto {
  @ApiProperty({ description: 'The client_id (the token’s sub)' })
  id!: string;

  @ApiProperty()
  client_id!: string;

  @ApiProperty({ type: [String] })
  roles!: string[];

  @ApiProperty({ description: 'Space-separated scopes of the token' })
  scope!: string;
}
