import { ApiProperty } from '@nestjs/swagger';
import { UserResponseDto } from '../../users/user-response.dto.js';

/** GET /auth/me for a user's token. */
export class MeResponseDto extends UserResponseDto {
  @ApiProperty({ description: 'Whether the owner opened a verification (or password reset) link sent to this address' })
  email_verified!: boolean;
}
