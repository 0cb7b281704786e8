import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, registerDecorator } from 'class-validator';
import { holdsForbiddenText } from '../../common/validation.js';

/**
 * A cursor is base64url of JSON, so the request-wide check for control characters cannot see
 * inside it: a crafted cursor holding NUL must be a 400 here, not a Postgres error. Anything that
 * does not decode is left to decodeCursor, which refuses it the same way.
 */
function HasNoForbiddenTextInside(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'hasNoForbiddenTextInside',
      target: target.constructor,
      propertyName: propertyName.toString(),
      options: { message: 'cursor is not valid' },
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            return !holdsForbiddenText(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
          } catch {
            return true;
          }
        },
      },
    });
}

/** `?limit&cursor` of every paged admin list. */
export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit = 50;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @HasNoForbiddenTextInside()
  cursor?: string;
}
