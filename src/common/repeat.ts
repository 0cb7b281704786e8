import type { Logger } from '@nestjs/common';

/**
 * Runs `task` every `intervalMs` without keeping the process alive. A failed run is logged as
 * `failure` and the next one tries again.
 */
export function repeatInBackground(intervalMs: number, task: () => Promise<unknown>, logger: Logger, failure: string): NodeJS.Timeout {
  const timer = setInterval(() => {
    task().catch((error: unknown) => logger.warn(`${failure}: ${String(error)}`));
  }, intervalMs);
  timer.unref();
  return timer;
}
