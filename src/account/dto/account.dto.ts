import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength } from 'class-validator';
import { HasCanonicalEmail, toCanonicalEmail } from '../../common/email.js';
import { IsNotCommonPassword, IsPasswordLength, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../users/password-policy.js';

// Mail tokens are 43 characters; a longer string is no token, but it is invalid_grant, not a validation error.
const TOKEN_MAX_LENGTH = 512;

export class ChangePasswordDto {
  @ApiProperty({ minLength: 1, maxLength: 1024 })
  @IsPasswordLength(1, PASSWORD_MAX_LENGTH)
  current_password!: string;

  @ApiProperty({ minLength: 8, maxLength: 1024, description: 'Not one of the 10,000 most common passwords' })
  @IsPasswordLength(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  @IsNotCommonPassword()
  new_password!: string;
}

export class DeleteAccountDto {
  @ApiProperty({ minLength: 1, maxLength: 1024 })
  @IsPasswordLength(1, PASSWORD_MAX_LENGTH)
  password!: string;
}

export class ForgotPasswordDto {
  @ApiProperty({ example: 'ann@example.com', maxLength: 254 })
  @Transform(toCanonicalEmail)
  @IsString()
  @HasCanonicalEmail()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be a valid email address' })
  email!: string;
}

export class ResetPasswordDto {
  @ApiProperty({ description: 'The `token` query parameter of the link in the reset mail' })
  @IsString()
  @MaxLength(TOKEN_MAX_LENGTH)
  token!: string;

  @ApiProperty({ minLength: 8, maxLength: 1024, description: 'Not one of the 10,000 most common passwords' })
  @IsPasswordLength(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  @IsNotCommonPassword()
  new_password!: string;
}

export class VerifyEmailDto {
  @ApiProperty({ description: 'The `token` query parameter of the link in the verification mail' })
  @IsString()
  @MaxLength(TOKEN_MAX_LENGTH)
  token!: string;
}

/** One of the caller's sessions; `id` is the `sid` claim of its access tokens. */
export class OwnSessionResponseDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  created_at!: Date;

  @ApiProperty()
  last_used_at!: Date;

  @ApiProperty()
  expires_at!: Date;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  user_agent!: string | null;

  @ApiProperty({ description: 'The session of the access token that asked' })
  current!: boolean;
}

export class OwnSessionsResponseDto {
  @ApiProperty({ type: [OwnSessionResponseDto] })
  items!: OwnSessionResponseDto[];
}
