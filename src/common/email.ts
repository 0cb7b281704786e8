/**
 * The one canonical form of an email address: trimmed, NFC, lower-cased. Case variants of one
 * address collapse to one account; look-alike characters from other scripts stay distinct (no
 * NFKC folding), so a Cyrillic "а" never matches an ASCII "a".
 */
export function normalizeEmail(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase();
}

/** For `@Transform(toCanonicalEmail)` on request fields: strings are normalised, anything else is left to validation. */
export const toCanonicalEmail = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? normalizeEmail(value) : value);
