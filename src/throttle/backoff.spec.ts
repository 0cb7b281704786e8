import { describe, expect, it } from 'vitest';
import { guessBudget, loginBackoffSeconds } from './backoff.js';

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

describe('guessBudget', () => {
  it('admits guesses until the bucket is full', () => {
    expect(guessBudget(0, 0, 20)).toEqual({ spent: 0, waitSeconds: 0 });
    expect(guessBudget(19, 0, 20)).toEqual({ spent: 19, waitSeconds: 0 });
  });

  it('then asks for the time one guess takes to drain', () => {
    expect(guessBudget(20, 0, 20).waitSeconds).toBe(180);
    expect(guessBudget(20, 60, 20).waitSeconds).toBeCloseTo(120);
  });

  it('drains at the hourly rate and never below empty', () => {
    expect(guessBudget(20, 1800, 20).spent).toBe(10);
    expect(guessBudget(20, 7200, 20).spent).toBe(0);
  });

  it('treats a clock that went backwards as no time passed', () => {
    expect(guessBudget(5, -30, 20).spent).toBe(5);
  });
});
