import { describe, expect, it } from 'vitest';
import { jwksMaxAgeSeconds, planKeyTransitions, type ScheduledKey } from './key-schedule.js';

const settings = { rotationIntervalSeconds: 30 * 86400, publishAheadSeconds: 1800, retireAfterSeconds: 930, clockSkewSeconds: 30 };
const t0 = Date.UTC(2026, 0, 1);
const at = (seconds: number) => new Date(t0 + seconds * 1000);
const key = (kid: string, state: ScheduledKey['state'], activatesAt: number, retiresAt: number | null = null): ScheduledKey => ({
  kid,
  state,
  activatesAt: at(activatesAt),
  retiresAt: retiresAt === null ? null : at(retiresAt),
});

describe('planKeyTransitions', () => {
  it('creates an active key at once when there is none at all', () => {
    expect(planKeyTransitions([], at(0), settings)).toEqual({ create: { state: 'active', activatesAt: at(0) }, remove: [] });
  });

  it('does nothing while the active key is younger than the interval minus the publication lead', () => {
    expect(planKeyTransitions([key('a', 'active', 0)], at(30 * 86400 - 1801), settings)).toEqual({ remove: [] });
  });

  it('publishes the next key KEY_PUBLISH_AHEAD before the rotation is due', () => {
    const now = at(30 * 86400 - 1800);
    expect(planKeyTransitions([key('a', 'active', 0)], now, settings)).toEqual({
      create: { state: 'next', activatesAt: at(30 * 86400) },
      remove: [],
    });
  });

  it('leaves a published key waiting until its activation time', () => {
    const keys = [key('a', 'active', 0), key('b', 'next', 5000)];
    expect(planKeyTransitions(keys, at(4999), settings)).toEqual({ remove: [] });
  });

  it('activates the next key on time and retires the old one until its tokens have expired', () => {
    const keys = [key('a', 'active', 0), key('b', 'next', 5000)];
    expect(planKeyTransitions(keys, at(5000), settings)).toEqual({
      activate: { kid: 'b', retiring: { kid: 'a', retiresAt: at(5930) } },
      remove: [],
    });
  });

  it('removes a retired key once no token it signed can be alive', () => {
    const keys = [key('a', 'retired', 0, 5930), key('b', 'active', 5000)];
    expect(planKeyTransitions(keys, at(5929), settings).remove).toEqual([]);
    expect(planKeyTransitions(keys, at(5930), settings).remove).toEqual(['a']);
  });
});

describe('planKeyTransitions with an operator-supplied key (SIGNING_KEY_FILE)', () => {
  it('starts with the supplied key when there is no key at all', () => {
    expect(planKeyTransitions([], at(0), settings, 'file')).toEqual({ create: { state: 'active', activatesAt: at(0) }, remove: [] });
  });

  it('generates nothing on the schedule', () => {
    expect(planKeyTransitions([key('file', 'active', 0)], at(40 * 86400), settings, 'file')).toEqual({ remove: [] });
  });

  it('publishes a newly mounted key as the next key, KEY_PUBLISH_AHEAD before it signs', () => {
    expect(planKeyTransitions([key('old-file', 'active', 0)], at(100), settings, 'new-file')).toEqual({
      create: { state: 'next', activatesAt: at(1900) },
      remove: [],
    });
  });
});

describe('jwksMaxAgeSeconds', () => {
  it('stays a minute under KEY_PUBLISH_AHEAD while no activation is near', () => {
    expect(jwksMaxAgeSeconds([key('a', 'active', 0)], at(100), settings)).toBe(1740);
  });

  it('never reaches past the next planned activation minus the margin', () => {
    const keys = [key('a', 'active', 0), key('b', 'next', 1000)];
    expect(jwksMaxAgeSeconds(keys, at(400), settings)).toBe(540);
    expect(jwksMaxAgeSeconds(keys, at(990), settings)).toBe(0);
  });

  it('keeps a margin of at least the tolerated clock skew: a replica with a fast clock activates that early', () => {
    expect(jwksMaxAgeSeconds([key('a', 'active', 0)], at(100), { ...settings, clockSkewSeconds: 120 })).toBe(1680);
  });

  it('counts toward the scheduled rotation when no key is published yet', () => {
    const dueAt = 30 * 86400;
    expect(jwksMaxAgeSeconds([key('a', 'active', 0)], at(dueAt - 1000), settings)).toBe(940);
  });
});
