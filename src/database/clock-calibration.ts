import { Injectable, type Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { PeriodicTask } from '../common/repeat.js';

const CALIBRATION_INTERVAL_MS = 60_000;
const SAMPLES = 3;
/** An offset change this large is worth a log line: some clock was stepped. */
const NOTABLE_CHANGE_MS = 1000;

/**
 * Puts the Clock on the database server's time: every replica reads the same clock, so a replica
 * whose own clock is seconds off still judges grace windows, expiries and key activations as the
 * others do. The measurement takes the fastest of a few round trips and assumes the server read
 * its clock halfway through, so it is exact to half that round trip (well under a millisecond on
 * a LAN).
 */
export async function calibrateClock(dataSource: DataSource, clock: Clock, logger: Logger): Promise<void> {
  let best: { roundTripMs: number; offsetMs: number } | undefined;
  for (let sample = 0; sample < SAMPLES; sample++) {
    const sentAt = Date.now();
    const [{ serverMs }] = (await dataSource.query(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS "serverMs"`)) as [
      { serverMs: number },
    ];
    const receivedAt = Date.now();
    const roundTripMs = receivedAt - sentAt;
    if (best === undefined || roundTripMs < best.roundTripMs) best = { roundTripMs, offsetMs: Math.round(serverMs - (sentAt + receivedAt) / 2) };
  }
  const { offsetMs } = best!;
  const previous = clock.databaseOffsetMs;
  clock.setDatabaseOffset(offsetMs);
  if (Math.abs(offsetMs - previous) >= NOTABLE_CHANGE_MS) {
    const direction = offsetMs < 0 ? 'ahead of' : 'behind';
    logger.warn(`This machine's clock is ${Math.abs(offsetMs)} ms ${direction} the database's; the service keeps the database's time`);
  }
}

/**
 * Measures again every minute (the first measurement is taken as the pool opens, before any
 * module reads the clock); a failed measurement keeps the last offset.
 */
@Injectable()
export class ClockCalibration extends PeriodicTask {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    super(CALIBRATION_INTERVAL_MS, 'Clock calibration failed; keeping the last offset');
  }

  run(): Promise<void> {
    return calibrateClock(this.dataSource, this.clock, this.logger);
  }
}
