import { Clock } from '../../src/common/clock.js';

/** A Clock for unit tests: it reads `current`, which the test moves by hand. */
export class FixedClock extends Clock {
  constructor(public current: Date) {
    super();
  }

  override now(): Date {
    return this.current;
  }
}
