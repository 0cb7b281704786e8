import { describe, expect, it } from 'vitest';
import { canonicalEmail, hasHostNameDomain, normalizeEmail, toCanonicalEmail } from './email.js';

describe('canonicalEmail', () => {
  it('trims, lower-cases and composes (NFC) as before', () => {
    expect(canonicalEmail('  Alice@Example.COM ')).toBe('alice@example.com');
    expect(canonicalEmail('jose\u0301@example.com')).toBe('josé@example.com');
  });

  it('folds final sigma into sigma in the local part', () => {
    expect(canonicalEmail('ΟΔΟΣ@example.com')).toBe('οδοσ@example.com');
    expect(canonicalEmail('οδος@example.com')).toBe('οδοσ@example.com');
    expect(canonicalEmail('οδοσ@example.com')).toBe('οδοσ@example.com');
  });

  it('writes the domain in A-labels, so a Unicode domain and its punycode are one address', () => {
    expect(canonicalEmail('ann@bücher.test')).toBe('ann@xn--bcher-kva.test');
    expect(canonicalEmail('ann@BÜCHER.test')).toBe('ann@xn--bcher-kva.test');
    expect(canonicalEmail('ann@xn--bcher-kva.test')).toBe('ann@xn--bcher-kva.test');
  });

  it('keeps look-alikes from other scripts distinct (no NFKC)', () => {
    expect(canonicalEmail('p\u0430ypal@example.com')).not.toBe(canonicalEmail('paypal@example.com'));
  });

  it.each([
    ['a zero-width space', 'admin\u200b@example.com'],
    ['a zero-width joiner', 'ad\u200dmin@example.com'],
    ['a soft hyphen', 'ad\u00admin@example.com'],
    ['a right-to-left override', 'admin\u202e@example.com'],
    ['a byte-order mark', '\ufeffadmin@example.com'],
    ['a NUL', 'admin\u0000@example.com'],
    ['a tab', 'admin\t@example.com'],
    ['a no-break space', 'admin\u00a0@example.com'],
    ['an ideographic space', 'admin@example.com\u3000'],
    ['a line separator', 'admin\u2028@example.com'],
    ['a lone surrogate', 'admin\ud800@example.com'],
  ])('has no canonical form with %s', (_name, raw) => {
    expect(canonicalEmail(raw)).toBeUndefined();
    expect(() => normalizeEmail(raw)).toThrow();
  });

  it('is idempotent', () => {
    for (const raw of ['ΟΔΟΣ@BÜCHER.test', ' Ann@Example.com', 'no-at-sign', 'user@']) {
      const once = canonicalEmail(raw)!;
      expect(canonicalEmail(once)).toBe(once);
    }
  });

  it('keeps a domain that is no host name as typed (lower-cased): it matches no account, and registration refuses it', () => {
    expect(canonicalEmail('Admin@XN--ZZ.test')).toBe('admin@xn--zz.test');
    expect(hasHostNameDomain('admin@xn--zz.test')).toBe(false);
    expect(hasHostNameDomain("admin@example.com' or '1'='1")).toBe(false);
    expect(hasHostNameDomain('admin@bücher.test')).toBe(true);
    expect(hasHostNameDomain('admin')).toBe(false);
  });

  it('leaves strings without a domain to address validation', () => {
    expect(canonicalEmail('Not-An-Email')).toBe('not-an-email');
    expect(canonicalEmail('User@')).toBe('user@');
  });

  it('toCanonicalEmail leaves values without a canonical form, and non-strings, for validation to refuse', () => {
    expect(toCanonicalEmail({ value: 'A\u200b@example.com' })).toBe('A\u200b@example.com');
    expect(toCanonicalEmail({ value: 42 })).toBe(42);
    expect(toCanonicalEmail({ value: 'A@Example.com' })).toBe('a@example.com');
  });
});
