import { beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { RevocationList } from './revocation-list.service.js';
import { FixedClock } from '../../test/support/fixed-clock.js';

describe('RevocationList', () => {
  const config = loadConfig({ ACCESS_TOKEN_TTL: '900', JWT_CLOCK_SKEW: '30' });
  const metrics = { observeGauge: () => undefined } as unknown as MetricsService;
  const token = { id: 'user-1', sessionId: 'session-1', tokenGeneration: 2 };
  let clock: FixedClock;
  let list: RevocationList;

  beforeEach(() => {
    clock = new FixedClock(new Date('2026-01-01T00:00:00Z'));
    list = new RevocationList({} as DataSource, config, clock, metrics);
  });

  const at = () => clock.current.getTime();

  it('refuses a token of an older generation than its user, and only those', () => {
    list.apply({ kind: 'user', id: 'user-1', generation: 3, at: at() });

    expect(list.isRevoked(token)).toBe(true);
    expect(list.isRevoked({ ...token, tokenGeneration: 3 })).toBe(false);
    expect(list.isRevoked({ ...token, id: 'user-2' })).toBe(false);
  });

  it('compares no clocks: a revocation dated in the future by a skewed replica refuses at once', () => {
    list.apply({ kind: 'user', id: 'user-1', generation: 3, at: at() + 5000 });

    expect(list.isRevoked(token)).toBe(true);
  });

  it('keeps the highest generation whatever order notifications arrive in', () => {
    list.apply({ kind: 'user', id: 'user-1', generation: 4, at: at() });
    list.apply({ kind: 'user', id: 'user-1', generation: 3, at: at() });

    expect(list.isRevoked({ ...token, tokenGeneration: 3 })).toBe(true);
    expect(list.publishedFeed().body).toContain('"generations":{"user-1":4}');
  });

  it('refuses every token of a revoked session', () => {
    list.apply({ kind: 'session', id: 'session-1', at: at() });

    expect(list.isRevoked({ ...token, tokenGeneration: 99 })).toBe(true);
  });

  it('ignores a revocation announced so long ago that no token it voids can still be accepted', () => {
    // Access-token lifetime plus four times the tolerated skew, and a second.
    const relevanceMs = (900 + 4 * 30 + 1) * 1000;
    list.apply({ kind: 'session', id: 'session-1', at: at() - relevanceMs - 1 });
    list.apply({ kind: 'session', id: 'session-2', at: at() - relevanceMs + 1000 });

    expect(list.isRevoked(token)).toBe(false);
    expect(list.isRevoked({ ...token, sessionId: 'session-2' })).toBe(true);
  });

  describe('service clients', () => {
    const clientToken = { id: 'orders', tokenId: 'jti-1', tokenGeneration: 0 };

    it("refuses a client's tokens of an older generation, keyed by client_id like a user's, and published in the same generations", () => {
      list.apply({ kind: 'client', id: 'orders', generation: 1, at: at() });

      expect(list.isRevoked(clientToken)).toBe(true);
      expect(list.isRevoked({ ...clientToken, tokenGeneration: 1 })).toBe(false);
      expect(JSON.parse(list.publishedFeed().body).generations).toEqual({ orders: 1 });
    });

    it('refuses one client token revoked on its own, by jti, and lists it in the feed', () => {
      list.apply({ kind: 'token', id: 'jti-1', at: at() });

      expect(list.isRevoked(clientToken)).toBe(true);
      expect(list.isRevoked({ ...clientToken, tokenId: 'jti-2' })).toBe(false);
      expect(JSON.parse(list.publishedFeed().body).tokens).toEqual(['jti-1']);
    });

    it('a revoked jti never touches user tokens, which are refused by session', () => {
      list.apply({ kind: 'token', id: 'session-1', at: at() });

      expect(list.isRevoked(token)).toBe(false);
    });
  });
});
