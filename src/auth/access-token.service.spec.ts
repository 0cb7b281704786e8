import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/app-config.js';
import type { KeysService } from '../keys/keys.service.js';
import type { RevocationList } from '../sessions/revocation-list.service.js';
import { JwtService } from '@nestjs/jwt';
import { jwtModuleOptions } from './access-token-keys.js';
import { AccessTokenService } from './access-token.service.js';
import { FixedClock } from '../../test/support/fixed-clock.js';

describe('AccessTokenService', () => {
  const config = loadConfig({ JWT_ISSUER: 'https://auth.example.com', ACCESS_TOKEN_TTL: '900', JWT_CLOCK_SKEW: '30' });
  const subject = { id: '0b6f3c36-5b8e-4d1e-a7f9-3d6c1f1d2e4a', email: 'ann@example.com', roles: ['user'], tokenGeneration: 3 };
  let privateKey: KeyObject;
  let publicKeys: Map<string, KeyObject>;
  let clock: FixedClock;
  let tokens: AccessTokenService;

  beforeEach(() => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey;
    publicKeys = new Map([['kid-1', pair.publicKey]]);
    const keys = {
      signingKey: () => ({ kid: 'kid-1', privateKey }),
      verificationKey: (kid: string) => publicKeys.get(kid),
    } as unknown as KeysService;
    clock = new FixedClock(new Date('2026-01-01T00:00:00Z'));
    tokens = new AccessTokenService(
      new JwtService(jwtModuleOptions(keys)),
      keys,
      { isRevoked: () => false } as unknown as RevocationList,
      config,
      clock,
    );
  });

  it('verifies what it issues and returns the subject, session and roles', () => {
    const { token, expiresIn } = tokens.issue(subject, 'session-1');

    expect(expiresIn).toBe(900);
    expect(tokens.authenticate(token)).toEqual({
      kind: 'user',
      id: subject.id,
      email: subject.email,
      roles: ['user'],
      sessionId: 'session-1',
      tokenId: expect.any(String),
      issuedAt: clock.nowSeconds(),
      tokenGeneration: 3,
      emailVerified: false,
      amr: ['pwd'],
    });
  });

  it('gives every token its own jti', () => {
    expect(tokens.authenticate(tokens.issue(subject, 's').token).tokenId).not.toBe(tokens.authenticate(tokens.issue(subject, 's').token).tokenId);
  });

  it('accepts a token until just before its expiry plus the clock skew, not from then on', () => {
    const { token } = tokens.issue(subject, 'session-1');
    const issuedAt = clock.current.getTime();

    clock.current = new Date(issuedAt + (900 + 29) * 1000);
    expect(() => tokens.authenticate(token)).not.toThrow();
    clock.current = new Date(issuedAt + (900 + 30) * 1000);
    expect(() => tokens.authenticate(token)).toThrow(expect.objectContaining({ code: 'invalid_token' }));
  });

  it('dates a token by the clock alone, never ahead of it', () => {
    const { token } = tokens.issue(subject, 'session-1');

    expect(tokens.authenticate(token).issuedAt).toBe(clock.nowSeconds());
  });

  it('refuses a token whose kid is no longer held', () => {
    const { token } = tokens.issue(subject, 'session-1');
    publicKeys.clear();

    expect(() => tokens.authenticate(token)).toThrow(expect.objectContaining({ code: 'invalid_token' }));
  });

  describe('remembering verified tokens', () => {
    it('still refuses a remembered token once it has expired', () => {
      const { token } = tokens.issue(subject, 'session-1');
      tokens.authenticate(token);

      clock.current = new Date(clock.current.getTime() + (900 + 30) * 1000);

      expect(() => tokens.authenticate(token)).toThrow(expect.objectContaining({ code: 'invalid_token' }));
    });

    it('still refuses a remembered token once its key is gone', () => {
      const { token } = tokens.issue(subject, 'session-1');
      tokens.authenticate(token);

      publicKeys.clear();

      expect(() => tokens.authenticate(token)).toThrow(expect.objectContaining({ code: 'invalid_token' }));
    });

    it('never answers a different token (one signature character changed) from memory', () => {
      const { token } = tokens.issue(subject, 'session-1');
      tokens.authenticate(token);
      const altered = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`;

      expect(() => tokens.authenticate(altered)).toThrow(expect.objectContaining({ code: 'invalid_token' }));
    });
  });
});
