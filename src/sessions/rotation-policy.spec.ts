import { describe, expect, it } from 'vitest';
import { isGraceRetry, refreshTokenExpiry } from './rotation-policy.js';

const lifetimes = { idleTtlSeconds: 3600, reuseGraceSeconds: 10 };
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);

describe('refreshTokenExpiry', () => {
  it('is the idle lifetime from now while the session lasts longer', () => {
    expect(refreshTokenExpiry(at(0), at(86400), lifetimes)).toEqual(at(3600));
  });

  it('never reaches past the session end', () => {
    expect(refreshTokenExpiry(at(85000), at(86400), lifetimes)).toEqual(at(86400));
  });
});

describe('isGraceRetry', () => {
  const spent = { usedAt: at(100), successorUsed: false };

  it('accepts a retry inside the window while the successor is unused', () => {
    expect(isGraceRetry(spent, at(100), lifetimes)).toBe(true);
    expect(isGraceRetry(spent, at(110), lifetimes)).toBe(true);
  });

  it('calls it reuse once the window has closed', () => {
    expect(isGraceRetry(spent, at(111), lifetimes)).toBe(false);
  });

  it('calls it reuse once the successor has been used, however soon', () => {
    expect(isGraceRetry({ ...spent, successorUsed: true }, at(101), lifetimes)).toBe(false);
  });

  it('has no window at all when the grace is zero', () => {
    expect(isGraceRetry(spent, at(100.5), { ...lifetimes, reuseGraceSeconds: 0 })).toBe(false);
  });
});
