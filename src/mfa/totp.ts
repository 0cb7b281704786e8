import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';

/** What authenticator apps expect (RFC 6238's defaults; Google Authenticator ignores anything else). */
export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** Steps accepted either side of the current one: a phone clock a little off, a code typed as it turned. */
export const TOTP_DRIFT_STEPS = 1;
const SECRET_BYTES = 20;

export const RECOVERY_CODE_COUNT = 10;
// 16 characters from 30 (no 0/1/i/l/o/u): 78 random bits, so a SHA-256 of it is as good as a slow hash.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstvwxyz23456789';
const RECOVERY_CODE_LENGTH = 16;

export const TOTP_CODE_PATTERN = /^[0-9]{6}$/;

export function newTotpSecret(): Buffer {
  return randomBytes(SECRET_BYTES);
}

export function base32Of(secret: Buffer): string {
  return new Secret({ buffer: new Uint8Array(secret).buffer }).base32;
}

/** The otpauth:// URI an authenticator app scans (Key Uri Format), with every parameter spelled out. */
export function otpauthUri(secret: Buffer, issuer: string, account: string): string {
  return new TOTP({
    issuer,
    label: account,
    secret: new Secret({ buffer: new Uint8Array(secret).buffer }),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString();
}

export function timeStepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The time step whose code `code` is, within the drift window around `nowMs`, or undefined. Every
 * candidate is computed and compared in constant time, whichever matches.
 */
export function matchingStep(secret: Buffer, code: string, nowMs: number): number | undefined {
  if (!TOTP_CODE_PATTERN.test(code)) return undefined;
  const otpSecret = new Secret({ buffer: new Uint8Array(secret).buffer });
  const current = timeStepAt(nowMs);
  const presented = Buffer.from(code);
  let matched: number | undefined;
  for (let step = current - TOTP_DRIFT_STEPS; step <= current + TOTP_DRIFT_STEPS; step++) {
    const expected = Buffer.from(HOTP.generate({ secret: otpSecret, algorithm: TOTP_ALGORITHM, digits: TOTP_DIGITS, counter: step }));
    if (timingSafeEqual(expected, presented)) matched = step;
  }
  return matched;
}

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from({ length: RECOVERY_CODE_LENGTH }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
    return chars.match(/.{4}/g)!.join('-');
  });
}

/** Case, spaces and dashes do not count: people copy codes from paper. */
export function hashRecoveryCode(code: string): Buffer {
  return createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, '')).digest();
}
