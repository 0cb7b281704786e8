import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, MaxLength } from 'class-validator';
import { HasCanonicalEmail, toCanonicalEmail } from '../../common/email.js';
import { IsPasswordLength, PASSWORD_MAX_LENGTH } from '../../users/password-policy.js';

/**
 * Only the shape is checked: a string that is no valid address simply matches no account (401).
 * The length bound applies before hashing; the minimum is registration policy, not login's.
 */
export class LoginDto {
  @ApiProperty({ example: 'ann@example.com' })
  @Transform(toCanonicalEmail)
  @IsString()
  @HasCanonicalEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple', minLength: 1, maxLength: 1024 })
  @IsPasswordLength(1, PASSWORD_MAX_LENGTH)
  password!: string;
}
