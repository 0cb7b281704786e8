import type { User } from './user.entity.js';

/** A user as admins see it: account state included, still never the password hash. */
export class AdminUserResponseDto {
  id!: string;
  email!: string;
  roles!: string[];
  disabled!: boolean;
  created_at!: Date;
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
