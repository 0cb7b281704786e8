import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { HasCanonicalEmail, toCanonicalEmail } from '../../common/email.js';
import { PageQuery } from './page.query.js';

export class ListUsersQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Literal prefix of the email' })
  /** A prefix of the canonical email, compared after the same normalisation. */
  @IsOptional()
  @Transform(toCanonicalEmail)
  @IsString()
  @HasCanonicalEmail()
  @MaxLength(254)
  email?: string;
}
