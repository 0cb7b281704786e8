import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** 32 random bytes in base64url: 43 characters, 256 bits. Anything else cannot be one of ours. */
export const REFRESH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const REPLAY_KEY_INFO = 'auth-service refresh-token replay v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function generateRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps instead of the token. The token's 256 bits make a salt unnecessary. */
export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** HKDF separates this key from the stored hash: knowing the hash does not give the key. */
function replayKey(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', token, Buffer.alloc(0), REPLAY_KEY_INFO, 32));
}

/** Encrypts a rotation's response so that only the holder of the spent token can read it back. */
export function sealReplay(token: string, response: object): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', replayKey(token), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(response), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function openReplay<T>(token: string, sealed: Buffer): T | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', replayKey(token), sealed.subarray(0, IV_BYTES));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const json = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    return JSON.parse(json) as T;
  } catch {
    return undefined;
  }
}
