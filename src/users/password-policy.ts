import { registerDecorator, type ValidationOptions } from 'class-validator';
import { COMMON_PASSWORDS } from './common-passwords.data.js';

// NIST SP 800-63B: at least 8 characters, allow at least 64; the upper bound only keeps hashing cheap.
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/** The form every password is hashed and verified in: NFKC (NIST SP 800-63B §5.1.1.2). */
export function canonicalPassword(password: string): string {
  return password.normalize('NFKC');
}

/** In a `u` regex, [\uD800-\uDFFF] matches only a surrogate that is not half of a pair. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Well-formed UTF-16: a lone surrogate has no UTF-8 form and would be hashed as U+FFFD. */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

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
      options: { message: `$property must be a well-formed string of ${min} to ${max} characters`, ...options },
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string' || value.length > 2 * max || !isWellFormedText(value)) return false;
          const length = passwordLength(value);
          return length >= min && length <= max;
        },
      },
    });
}

const COMMON = new Set(COMMON_PASSWORDS.split('\n'));

/** On the shipped list of the 10,000 most common passwords (NIST SP 800-63B §5.1.1.2), in any case and NFKC form. */
export function isCommonPassword(password: string): boolean {
  return COMMON.has(canonicalPassword(password).toLowerCase());
}

/** For new passwords only: a login must still work for an account whose password predates the list. */
export function IsNotCommonPassword(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isNotCommonPassword',
      target: target.constructor,
      propertyName: propertyName.toString(),
      options: { message: '$property is one of the most common passwords; choose another', ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && !isCommonPassword(value) },
    });
}
