import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiError } from './errors/api-error.js';

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => [...Object.values(error.constraints ?? {}), ...describe(error.children ?? [])]);
}

/**
 * Strict input everywhere: unknown fields are refused (not silently dropped), so a client that
 * sends `roles` learns at once that it cannot choose them. Messages name fields, never echo values.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => ApiError.invalidRequest(describe(errors).join('; ') || 'Invalid request body'),
  });
}
