/** The first retry waits about this long; each further one twice as long, up to RETRY_CAP_MS. */
export const RETRY_BASE_MS = 1_000;
/** Bounds the wait, and so the delivery delay once an SMTP outage ends (see the README's Mail section). */
export const RETRY_CAP_MS = 60_000;

/**
 * How long to wait after the `attempts`-th failed delivery: exponential, capped, with "equal
 * jitter" (half fixed, half random) so replicas retrying after one outage do not all reconnect in
 * the same instant, while the wait never drops below half its step.
 * @param random a number in [0, 1)
 */
export function retryDelayMs(attempts: number, random: number = Math.random()): number {
  const step = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(step / 2 + (random * step) / 2);
}
