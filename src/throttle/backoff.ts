/**
 * How long one client waits before its next login attempt on an account after its n-th failure
 * there. Free for the first `freeFailures`, then doubling from one second up to `maxSeconds`, so a
 * client's guessing slows to one try per `maxSeconds` while a typing user is only ever delayed.
 */
export function loginBackoffSeconds(failures: number, freeFailures: number, maxSeconds: number): number {
  if (failures <= freeFailures) return 0;
  return Math.min(2 ** (failures - freeFailures - 1), maxSeconds);
}

/** A client's failures on an account are forgotten after an hour without any attempt from it. */
export const LOGIN_FAILURE_DECAY_SECONDS = 3600;

/**
 * An account's guess budget for clients it has never seen succeed: a leaky bucket holding up to
 * `perHour` guesses that drains at `perHour` an hour. Rotating through addresses gains an attacker
 * nothing beyond it, and a refused attempt spends nothing.
 */
export interface GuessBudget {
  /** guesses in the bucket once it has drained for the time since it was last written */
  readonly spent: number;
  /** seconds until one more guess fits; 0 when it fits now */
  readonly waitSeconds: number;
}

export function guessBudget(spentThen: number, elapsedSeconds: number, perHour: number): GuessBudget {
  const spent = Math.max(0, spentThen - (Math.max(0, elapsedSeconds) * perHour) / 3600);
  const overflow = spent + 1 - perHour;
  return { spent, waitSeconds: overflow > 0 ? (overflow * 3600) / perHour : 0 };
}
