import { domainToASCII, domainToUnicode } from 'node:url';
import { registerDecorator, type ValidationOptions } from 'class-validator';

/**
 * Characters no address may hold: controls (Cc), invisible format characters (Cf: zero-width
 * space and joiners, soft hyphen, bidi overrides), line and paragraph separators and every space
 * but the ASCII one (trimmed at the ends, refused by address validation inside). They only make
 * look-alikes of an existing address. In a `u` regex a lone surrogate matches [\uD800-\uDFFF].
 */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uD800-\uDFFF]|(?! )\p{Zs}/u;

/**
 * The one canonical form of an email address, or undefined when there is none (a forbidden
 * character). Trimmed and NFC; the local part lower-cased
 * with final sigma folded into sigma ("ΟΔΟΣ" and "οδοσ" are one address); the domain in A-labels
 * (UTS #46 via `domainToASCII`: "bücher.test" is "xn--bcher-kva.test"). Look-alike characters from
 * other scripts stay distinct (no NFKC folding), so a Cyrillic "а" never matches an ASCII "a".
 * A string without "@" or with nothing after it is only case-folded: it matches no account
 * (login) or fails address validation (register).
 */
export function canonicalEmail(raw: string): string | undefined {
  if (FORBIDDEN.test(raw)) return undefined;
  const trimmed = raw.trim().normalize('NFC');
  const at = trimmed.lastIndexOf('@');
  const local = at < 0 ? trimmed : trimmed.slice(0, at);
  const foldedLocal = local.toLowerCase().replaceAll('ς', 'σ').normalize('NFC');
  if (at < 0) return foldedLocal;
  const domain = trimmed.slice(at + 1);
  if (domain === '') return `${foldedLocal}@`;
  // No host name: kept (lower-cased) so a login for it matches no account; registration refuses it.
  const asciiDomain = domainToASCII(domain);
  return `${foldedLocal}@${asciiDomain === '' ? domain.toLowerCase() : asciiDomain}`;
}

/**
 * Whether the part after the last "@" is a host name: `domainToASCII` gives it an A-label form, and
 * every `xn--` label in it decodes (Node 20 refuses an undecodable one itself; Node 24's URL parser
 * passes it through).
 */
export function hasHostNameDomain(email: string): boolean {
  const at = email.lastIndexOf('@');
  if (at < 0) return false;
  const ascii = domainToASCII(email.slice(at + 1));
  return ascii !== '' && ascii.split('.').every((label) => !label.startsWith('xn--') || domainToUnicode(label) !== label);
}

/** The canonical form, for values that must have one (configuration); throws when there is none. */
export function normalizeEmail(raw: string): string {
  const canonical = canonicalEmail(raw);
  if (canonical === undefined) throw new Error('not a valid email address');
  return canonical;
}

/**
 * For `@Transform(toCanonicalEmail)` on request fields: strings are normalised; a string without
 * a canonical form, and anything else, is left as it is for validation (`@HasCanonicalEmail`) to refuse.
 */
export const toCanonicalEmail = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? (canonicalEmail(value) ?? value) : value);

/**
 * A string that has a canonical form: on request fields after `toCanonicalEmail`, and on raw
 * configuration values alike (BOOTSTRAP_ADMIN_EMAIL). With `hostName`, its domain must also be a
 * host name (registration, configuration); a login only has to match no account.
 */
export function HasCanonicalEmail({ hostName = false, ...options }: ValidationOptions & { hostName?: boolean } = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'hasCanonicalEmail',
      target: target.constructor,
      propertyName: propertyName.toString(),
      options: {
        message: hostName
          ? '$property must not contain control, invisible or non-ASCII space characters, and its domain must be a valid host name'
          : '$property must not contain control, invisible or non-ASCII space characters',
        ...options,
      },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && canonicalEmail(value) !== undefined && (!hostName || hasHostNameDomain(value)),
      },
    });
}
