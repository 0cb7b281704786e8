/**
 * The signing-key lifecycle as pure rules: next (published, not signing) -> active (signs) ->
 * retired (published until every token it signed has expired) -> removed.
 */

export interface KeyScheduleSettings {
  readonly rotationIntervalSeconds: number;
  readonly publishAheadSeconds: number;
  /** Access-token lifetime plus clock skew: how long a retired key can still verify a live token. */
  readonly retireAfterSeconds: number;
  /** The clock difference tolerated between replicas and verifiers. */
  readonly clockSkewSeconds: number;
}

export interface ScheduledKey {
  readonly kid: string;
  readonly state: 'next' | 'active' | 'retired';
  readonly activatesAt: Date;
  readonly retiresAt: Date | null;
}

export interface KeyTransitions {
  /** Create a key: active at once (nothing is published yet), or next, activating later. */
  readonly create?: { state: 'active' | 'next'; activatesAt: Date };
  /** The next key whose time has come, and the active key it replaces. */
  readonly activate?: { kid: string; retiring: { kid: string; retiresAt: Date } | undefined };
  /** Retired keys that no live token can need any more. */
  readonly remove: string[];
}

/**
 * The least margin kept between a JWKS cache expiring and a key it did not list starting to sign;
 * never less than the tolerated clock skew, since a replica with a fast clock activates that early.
 */
export const JWKS_CACHE_MARGIN_SECONDS = 60;

const plus = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000);

/** When the next rotation is due to start publishing a new key, if no next key exists yet. */
export function scheduledPublication(active: ScheduledKey, settings: KeyScheduleSettings): Date {
  return plus(active.activatesAt, settings.rotationIntervalSeconds - settings.publishAheadSeconds);
}

/**
 * What must change at `now`; empty when the key set is as it should be. With `suppliedKid` (the
 * key of SIGNING_KEY_FILE) nothing is generated on a schedule: the supplied key is published as
 * the next key when it is new, and the operator rotates by mounting another file.
 */
export function planKeyTransitions(keys: readonly ScheduledKey[], now: Date, settings: KeyScheduleSettings, suppliedKid?: string): KeyTransitions {
  const active = keys.find((key) => key.state === 'active');
  const next = keys.find((key) => key.state === 'next');
  const remove = keys.filter((key) => key.state === 'retired' && key.retiresAt !== null && key.retiresAt <= now).map((key) => key.kid);

  if (next !== undefined && (next.activatesAt <= now || active === undefined)) {
    const retiring = active && { kid: active.kid, retiresAt: plus(now, settings.retireAfterSeconds) };
    return { activate: { kid: next.kid, retiring }, remove };
  }
  if (active === undefined) return { create: { state: 'active', activatesAt: now }, remove };
  if (suppliedKid !== undefined) {
    const isNew = !keys.some((key) => key.kid === suppliedKid);
    return isNew && next === undefined ? { create: { state: 'next', activatesAt: plus(now, settings.publishAheadSeconds) }, remove } : { remove };
  }
  if (next === undefined && scheduledPublication(active, settings) <= now) {
    return { create: { state: 'next', activatesAt: plus(now, settings.publishAheadSeconds) }, remove };
  }
  return { remove };
}

export function hasTransitions(plan: KeyTransitions): boolean {
  return plan.create !== undefined || plan.activate !== undefined || plan.remove.length > 0;
}

/**
 * How long a verifier may cache the JWKS: never past the moment a key it would not list could
 * start signing. That moment is at least KEY_PUBLISH_AHEAD away (a rotation on demand publishes
 * now and signs that much later), and no later than the next activation already planned.
 */
export function jwksMaxAgeSeconds(keys: readonly ScheduledKey[], now: Date, settings: KeyScheduleSettings): number {
  const next = keys.find((key) => key.state === 'next');
  const active = keys.find((key) => key.state === 'active');
  const nextActivation = next?.activatesAt ?? (active && plus(scheduledPublication(active, settings), settings.publishAheadSeconds));
  const untilNextActivation = nextActivation ? (nextActivation.getTime() - now.getTime()) / 1000 : Infinity;
  const margin = Math.max(JWKS_CACHE_MARGIN_SECONDS, settings.clockSkewSeconds);
  const maxAge = Math.min(settings.publishAheadSeconds, untilNextActivation) - margin;
  return Math.max(0, Math.floor(maxAge));
}
