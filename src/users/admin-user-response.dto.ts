import { ApiProperty } from '@nestjs/swagger';
import type { User } from './user.entity.js';

/** A user as admins see it: account state included, still never the password hash. */
export class AdminUserResponseDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty({})
  email!: string;
  @ApiProperty({ type: [String] })
  roles!: string[];
  @ApiProperty({})
  disabled!: boolean;
  @ApiProperty({})
  created_at!: Date;
  @ApiProperty({})
  updated_at!: Date;
}

export function toAdminUserResponse(user: User): AdminUserResponseDto {
  return {
    id: user.id,
    email: user.email,
    roles: user.roles,
    disabled: user.disabled,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
  };
}
