import { describe, expect, it } from 'vitest';
import { RETRY_BASE_MS, RETRY_CAP_MS, retryDelayMs } from './retry-policy.js';

describe('retryDelayMs', () => {
  it('doubles from the base, with the jitter between half and all of each step', () => {
    expect(retryDelayMs(1, 0)).toBe(RETRY_BASE_MS / 2);
    expect(retryDelayMs(1, 0.999_999)).toBeCloseTo(RETRY_BASE_MS, -1);
    expect(retryDelayMs(2, 0)).toBe(RETRY_BASE_MS);
    expect(retryDelayMs(4, 0)).toBe(4 * RETRY_BASE_MS);
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    for (const attempts of [7, 8, 30, 1000]) {
      expect(retryDelayMs(attempts, 0.999_999)).toBeLessThanOrEqual(RETRY_CAP_MS);
      expect(retryDelayMs(attempts, 0)).toBe(RETRY_CAP_MS / 2);
    }
  });
});
