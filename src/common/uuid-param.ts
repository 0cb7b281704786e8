import { ParseUUIDPipe, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ApiError } from './errors/api-error.js';

/**
 * For `@Param('id', UUID_PARAM)`: a malformed id is a 400 before any query runs, and a valid one
 * is handed on in the lower-case form the database and every token use, so an id compares as an
 * id (an admin's own id upper-cased is still their own).
 */
class UuidParam implements PipeTransform<string, Promise<string>> {
  private readonly parse = new ParseUUIDPipe({ exceptionFactory: () => ApiError.invalidRequest('id must be a UUID') });

  async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    await this.parse.transform(value, metadata);
    return value.toLowerCase();
  }
}

export const UUID_PARAM = new UuidParam();
