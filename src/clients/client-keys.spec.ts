import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidKeySet, publicKeySet } from './client-keys.js';
import { hashClientSecret, secretMatches, generateClientSecret } from './client-secrets.js';

const jwkOf = (type: 'rsa' | 'ec' | 'ed25519', half: 'publicKey' | 'privateKey' = 'publicKey', modulusLength = 2048) => {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return pair[half].export({ format: 'jwk' }) as Record<string, unknown>;
};

describe('publicKeySet', () => {
  it('keeps RSA, EC and Ed25519 public keys with only their public and descriptive members', () => {
    const rsa = { ...jwkOf('rsa'), kid: 'r', alg: 'RS256', use: 'sig', x5c: ['...'], note: 'dropped' };

    const { keys } = publicKeySet({ keys: [rsa, jwkOf('ec'), jwkOf('ed25519')] });

    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys.map((key) => key.kty)).toEqual(['RSA', 'EC', 'OKP']);
  });

  it.each([
    ['an RSA private key', () => ({ keys: [jwkOf('rsa', 'privateKey')] })],
    ['an EC private key', () => ({ keys: [jwkOf('ec', 'privateKey')] })],
    ['an Ed25519 private key', () => ({ keys: [jwkOf('ed25519', 'privateKey')] })],
    ['a symmetric key', () => ({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })],
    ['a 1024-bit RSA key', () => ({ keys: [jwkOf('rsa', 'publicKey', 1024)] })],
    ['an encryption key', () => ({ keys: [{ ...jwkOf('ec'), use: 'enc' }] })],
    ['an HMAC algorithm', () => ({ keys: [{ ...jwkOf('ec'), alg: 'HS256' }] })],
    ['no keys', () => ({ keys: [] })],
    ['eleven keys', () => ({ keys: Array.from({ length: 11 }, () => jwkOf('ec')) })],
    ['a bare key instead of a set', () => jwkOf('ec')],
    ['a curve we do not take', () => ({ keys: [{ ...jwkOf('ec'), crv: 'secp256k1' }] })],
  ])('refuses %s, without echoing key material', (_name, input) => {
    let error: unknown;
    try {
      publicKeySet(input());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidKeySet);
    expect((error as Error).message).not.toMatch(/[A-Za-z0-9_-]{40,}/);
  });
});

describe('client secrets', () => {
  it('are 256 bits, URL-safe, and matched against the current or the previous hash only', () => {
    const secret = generateClientSecret();
    const other = generateClientSecret();

    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(secretMatches(secret, hashClientSecret(secret), null)).toBe(true);
    expect(secretMatches(secret, hashClientSecret(other), hashClientSecret(secret))).toBe(true);
    expect(secretMatches(secret, hashClientSecret(other), null)).toBe(false);
    expect(secretMatches(secret, null, null)).toBe(false);
    expect(secretMatches('no such client secret', null, null)).toBe(false);
  });
});
