import { describe, expect, it } from 'vitest';
import { generateRefreshToken, hashRefreshToken, openReplay, REFRESH_TOKEN_PATTERN, sealReplay } from './refresh-token-crypto.js';

describe('refresh token crypto', () => {
  it('generates 43 URL-safe characters carrying 256 random bits', () => {
    const token = generateRefreshToken();

    expect(token).toMatch(REFRESH_TOKEN_PATTERN);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(generateRefreshToken()).not.toBe(token);
  });

  it('hashes deterministically to 32 bytes that do not contain the token', () => {
    const token = generateRefreshToken();

    expect(hashRefreshToken(token)).toEqual(hashRefreshToken(token));
    expect(hashRefreshToken(token)).toHaveLength(32);
    expect(hashRefreshToken(token).toString('base64url')).not.toBe(token);
  });

  it('opens a sealed replay only with the token it was sealed under', () => {
    const token = generateRefreshToken();
    const response = { access_token: 'a.b.c', refresh_token: generateRefreshToken() };
    const sealed = sealReplay(token, response);

    expect(openReplay(token, sealed)).toEqual(response);
    expect(openReplay(generateRefreshToken(), sealed)).toBeUndefined();
    expect(sealed.toString('latin1')).not.toContain(response.refresh_token);
  });

  it('refuses a tampered replay', () => {
    const token = generateRefreshToken();
    const sealed = sealReplay(token, { a: 1 });
    sealed[sealed.length - 1] ^= 1;

    expect(openReplay(token, sealed)).toBeUndefined();
  });
});
