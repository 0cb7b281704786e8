import { describe, expect, it } from 'vitest';
import { RefusalMemory } from './refusal-memory.js';

describe('RefusalMemory', () => {
  it('refuses a remembered key until its time has come, then forgets it', () => {
    const memory = new RefusalMemory(10);
    memory.remember('ip:a', 1_500, 1_000);
    expect(memory.remaining('ip:a', 1_000)).toBe(500);
    expect(memory.remaining('ip:b', 1_000)).toBe(0);
    expect(memory.remaining('ip:a', 1_500)).toBe(0);
  });

  it('believes a refusal for no longer than its limit, and tells its real end meanwhile', () => {
    const memory = new RefusalMemory(10, 5_000);
    memory.remember('login:a', 600_000, 0);
    expect(memory.remaining('login:a', 4_000)).toBe(596_000);
    expect(memory.remaining('login:a', 5_000)).toBe(0);
  });

  it('forgets every key under a prefix', () => {
    const memory = new RefusalMemory(10);
    memory.remember('login:a:net', 9_000, 0);
    memory.remember('login:a:budget', 9_000, 0);
    memory.remember('login:b:net', 9_000, 0);
    memory.forget('login:a:');
    expect([memory.remaining('login:a:net', 0), memory.remaining('login:a:budget', 0), memory.remaining('login:b:net', 0)]).toEqual([0, 0, 9_000]);
  });

  it('stays within its size, dropping expired entries first and then the oldest', () => {
    const memory = new RefusalMemory(2);
    memory.remember('expired', 10, 0);
    memory.remember('old', 1_000, 0);
    memory.remember('new', 1_000, 20);
    expect([memory.remaining('old', 20), memory.remaining('new', 20)]).toEqual([980, 980]);
    memory.remember('newest', 1_000, 20);
    expect([memory.remaining('old', 20), memory.remaining('new', 20), memory.remaining('newest', 20)]).toEqual([0, 980, 980]);
  });
});
