import { ApiProperty } from '@nestjs/swagger';
import type { User } from './user.entity.js';
import { toUserResponse, UserResponseDto } from './user-response.dto.js';

/** A user as admins see it: account state included, still never the password hash. */
export class AdminUserResponseDto extends UserResponseDto {
  @ApiProperty()
  disabled!: boolean;

  @ApiProperty()
  created_at!: Date;

  @ApiProperty()
  updated_at!: Date;
}

export function toAdminUserResponse(user: User): AdminUserResponseDto {
  return { ...toUserResponse(user), disabled: user.disabled, created_at: user.createdAt, updated_at: user.updatedAt };
}
