import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { toCanonicalEmail } from '../../auth/dto/register.dto.js';

export class ListUsersQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit = 50;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  /** A prefix of the canonical email, compared after the same normalisation. */
  @IsOptional()
  @Transform(toCanonicalEmail)
  @IsString()
  @MaxLength(254)
  email?: string;
}
