import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiError } from './errors/api-error.js';

// C0 and C1 controls (NUL included: Postgres refuses it in text, which would surface as a 500) and
// lone surrogates (no UTF-8 form; they would silently become U+FFFD). No field of this service
// has a use for either.
const CONTROL_OR_LONE_SURROGATE = /[\p{Cc}\uD800-\uDFFF]/u;

/** Whether any string in the value, key or leaf, holds a control character or a lone surrogate; iterative like nestsDeeperThan. */
export function holdsForbiddenText(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === 'string') {
      if (CONTROL_OR_LONE_SURROGATE.test(current)) return true;
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) {
        if (CONTROL_OR_LONE_SURROGATE.test(key)) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

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
