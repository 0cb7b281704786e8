import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits: base64url of 32 random bytes, 43 URL-safe characters. */
const SECRET_BYTES = 32;

/** Far above any secret we issue; bounds the hashing work a caller can ask for. */
export const MAX_CLIENT_SECRET_LENGTH = 512;

export function generateClientSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/**
 * SHA-256, unkeyed and fast, on purpose. A secret made here is 256 random bits: there is no
 * dictionary to try, and inverting SHA-256 is out of reach, so a slow hash (argon2) would only add
 * milliseconds of CPU to every client authentication and a denial-of-service lever, and protect
 * nothing. A server-side HMAC key would guard only low-entropy secrets (which we never issue), would
 * be one more key to distribute to every replica and rotate, and would break the digests operators
 * already configured in INTROSPECTION_CLIENTS (`sha256(secret)`), which the bootstrap stores as they are.
 */
export function hashClientSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

const NO_SECRET = hashClientSecret('no such client secret');

/**
 * Constant time, and the same work whatever is stored: two SHA-256 comparisons always, against
 * placeholders where the client is unknown or holds no (previous) secret.
 */
export function secretMatches(presented: string, current: Buffer | null | undefined, previous: Buffer | null | undefined): boolean {
  const digest = hashClientSecret(presented.slice(0, MAX_CLIENT_SECRET_LENGTH));
  const matchesCurrent = timingSafeEqual(digest, current ?? NO_SECRET);
  const matchesPrevious = timingSafeEqual(digest, previous ?? NO_SECRET);
  return presented.length <= MAX_CLIENT_SECRET_LENGTH && ((matchesCurrent && current != null) || (matchesPrevious && previous != null));
}
