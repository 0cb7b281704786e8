import { ApiProperty } from '@nestjs/swagger';
import type { User } from './user.entity.js';

/** What a client may see of a user; built only through toUserResponse, so no hash can slip in. */
export class UserResponseDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ type: [String] })
  roles!: string[];
}

/** From the stored user, or from a verified access token's claims (/auth/me answers without the database). */
export function toUserResponse(user: Pick<User, 'id' | 'email'> & { readonly roles: readonly string[] }): UserResponseDto {
  return { id: user.id, email: user.email, roles: [...user.roles] };
}
