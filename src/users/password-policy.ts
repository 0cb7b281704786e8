import { registerDecorator, type ValidationOptions } from 'class-validator';

// NIST SP 800-63B: at least 8 characters, allow at least 64; the upper bound only keeps hashing cheap.
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/** Length in Unicode code points, so a password of emoji is counted as its user typed it. */
export function passwordLength(password: string): number {
  let count = 0;
  for (const _ of password) count++;
  return count;
}

/** A string of `min` to `max` characters (code points), checked before any hashing happens. */
export function IsPasswordLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPasswordLength',
      target: target.constructor,
      propertyName: propertyName.toString(),
      options: { message: `$property must be a string of ${min} to ${max} characters`, ...options },
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string' || value.length > 2 * max) return false;
          const length = passwordLength(value);
          return length >= min && length <= max;
        },
      },
    });
}
