import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes in base64url: 43 URL-safe characters, 256 bits (the contract asks for at least 128). */
export const MAIL_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function generateMailToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Only this is stored. A fast hash is right for a token of 256 random bits: there is no dictionary
 * to try, and SHA-256 cannot be inverted (the same reasoning as for refresh tokens and client secrets).
 */
export function hashMailToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
