import { Injectable } from '@nestjs/common';

/**
 * The service's only source of "now": the database server's clock, as measured by
 * ClockCalibration, so replicas whose own clocks disagree still agree on every expiry, grace
 * window and key activation. Decisions read it instead of Date or SQL now(), so tests move time
 * forward by replacing this one method rather than by sleeping.
 */
@Injectable()
export class Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  nowSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  /** How far the database's clock is ahead of this process's (negative: behind). */
  get databaseOffsetMs(): number {
    return this.offsetMs;
  }

  /** Called by ClockCalibration with each new measurement. */
  setDatabaseOffset(offsetMs: number): void {
    this.offsetMs = offsetMs;
  }
}
