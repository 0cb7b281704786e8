import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';

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

/**
 * A provider whose whole job is a task every replica repeats while the application runs (a sweep,
 * a calibration): started when its module initialises, stopped when it is destroyed.
 */
export abstract class PeriodicTask implements OnModuleInit, OnModuleDestroy {
  protected readonly logger = new Logger(this.constructor.name);
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param intervalMs time between runs
   * @param failure what the log line of a failed run begins with
   * @param runAtStart whether the first run completes before the module has initialised
   */
  protected constructor(
    private readonly intervalMs: number,
    private readonly failure: string,
    private readonly runAtStart = false,
  ) {}

  abstract run(): Promise<unknown>;

  async onModuleInit(): Promise<void> {
    if (this.runAtStart) await this.run();
    this.timer = repeatInBackground(this.intervalMs, () => this.run(), this.logger, this.failure);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
