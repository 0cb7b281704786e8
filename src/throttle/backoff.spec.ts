import { describe, expect, it } from 'vitest';
import { loginBackoffSeconds } from './backoff.js';

describe('loginBackoffSeconds', () => {
  it('is free for the first failures', () => {
    expect([1, 2, 3, 4, 5].map((n) => loginBackoffSeconds(n, 5, 600))).toEqual([0, 0, 0, 0, 0]);
  });

  it('then doubles from one second', () => {
    expect([6, 7, 8, 9].map((n) => loginBackoffSeconds(n, 5, 600))).toEqual([1, 2, 4, 8]);
  });

  it('never exceeds the cap', () => {
    expect(loginBackoffSeconds(40, 5, 600)).toBe(600);
  });
});
