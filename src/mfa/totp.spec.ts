import { describe, expect, it } from 'vitest';
import { base32Of, hashRecoveryCode, matchingStep, newRecoveryCodes, otpauthUri, timeStepAt } from './totp.js';

// RFC 6238 appendix B, SHA-1 (its 8-digit values; authenticator apps show the last 6 digits).
const RFC_SECRET = Buffer.from('12345678901234567890');
const RFC_VECTORS: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP (RFC 6238)', () => {
  it.each(RFC_VECTORS)('accepts the RFC 6238 code at T=%i', (seconds, code) => {
    expect(matchingStep(RFC_SECRET, code.slice(-6), seconds * 1000)).toBe(timeStepAt(seconds * 1000));
  });

  it('accepts one step of drift either way, not two', () => {
    const at = 1234567890 * 1000;
    const step = timeStepAt(at);
    expect(matchingStep(RFC_SECRET, '005924', at + 30_000)).toBe(step);
    expect(matchingStep(RFC_SECRET, '005924', at - 30_000)).toBe(step);
    expect(matchingStep(RFC_SECRET, '005924', at + 60_000)).toBeUndefined();
    expect(matchingStep(RFC_SECRET, '005924', at - 60_000)).toBeUndefined();
  });

  it('refuses what is not six digits', () => {
    expect(matchingStep(RFC_SECRET, '05924', 1234567890 * 1000)).toBeUndefined();
    expect(matchingStep(RFC_SECRET, '0059240', 1234567890 * 1000)).toBeUndefined();
    expect(matchingStep(RFC_SECRET, '00592a', 1234567890 * 1000)).toBeUndefined();
  });

  it('spells out what authenticator apps expect in the otpauth URI', () => {
    const uri = new URL(otpauthUri(RFC_SECRET, 'auth.example.com', 'ann@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.searchParams.get('secret')).toBe(base32Of(RFC_SECRET));
    expect(base32Of(RFC_SECRET)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(uri.searchParams.get('issuer')).toBe('auth.example.com');
  });

  it('makes ten distinct recovery codes whose hash ignores case and dashes', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(hashRecoveryCode(codes[0]!.toUpperCase().replace(/-/g, ''))).toEqual(hashRecoveryCode(codes[0]!));
  });
});
