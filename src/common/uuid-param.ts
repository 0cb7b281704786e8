import { ParseUUIDPipe } from '@nestjs/common';
import { ApiError } from './errors/api-error.js';

/** For `@Param('id', UUID_PARAM)`: a malformed id is a 400 before any query runs. */
export const UUID_PARAM = new ParseUUIDPipe({ exceptionFactory: () => ApiError.invalidRequest('id must be a UUID') });
