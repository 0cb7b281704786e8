import { Transform } from 'class-transformer';
import { IsString, MaxLength } from 'class-validator';
import { IsPasswordLength, PASSWORD_MAX_LENGTH } from '../../users/password-policy.js';
import { toCanonicalEmail } from './register.dto.js';

/**
 * Only the shape is checked: a string that is no valid address simply matches no account (401).
 * The length bound applies before hashing; the minimum is registration policy, not login's.
 */
export class LoginDto {
  @Transform(toCanonicalEmail)
  @IsString()
  @MaxLength(254)
  email!: string;

  @IsPasswordLength(1, PASSWORD_MAX_LENGTH)
  password!: string;
}
