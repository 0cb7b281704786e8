import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength } from 'class-validator';
import { HasCanonicalEmail, toCanonicalEmail } from '../../common/email.js';
import { IsNotCommonPassword, IsPasswordLength, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../users/password-policy.js';

export class RegisterDto {
  @ApiProperty({ example: 'ann@example.com', maxLength: 254 })
  @Transform(toCanonicalEmail)
  @IsString()
  @HasCanonicalEmail({ hostName: true })
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be a valid email address' })
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple', minLength: 8, maxLength: 1024, description: 'Not one of the 10,000 most common passwords' })
  @IsPasswordLength(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  @IsNotCommonPassword()
  password!: string;
}
