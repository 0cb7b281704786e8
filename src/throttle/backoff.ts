/**
 * The login tarpit: how long an account waits after its n-th failed attempt. Free for the first
 * `freeFailures`, then doubling from one second up to `maxSeconds`, so guessing slows to one try
 * per `maxSeconds` while the real user is only ever delayed, never locked out.
 */
export function loginBackoffSeconds(failures: number, freeFailures: number, maxSeconds: number): number {
  if (failures <= freeFailures) return 0;
  return Math.min(2 ** (failures - freeFailures - 1), maxSeconds);
}

/** Failures are forgotten after an hour without any attempt on the account. */
export const LOGIN_FAILURE_DECAY_SECONDS = 3600;
