import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, LessThan } from 'typeorm';
import { Clock } from '../common/clock.js';
import { PeriodicTask } from '../common/repeat.js';
import { LOGIN_FAILURE_DECAY_SECONDS } from './backoff.js';
import { LoginThrottleRepository } from './login-throttle.repository.js';
import { RATE_LIMIT_WINDOW_MS } from './rate-limiter.js';
import { RateLimitCounter } from './throttle.entities.js';
import { TrustedDevices } from './trusted-devices.js';

const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Deletes counters of past windows, login state that no longer counts and expired device proofs. */
@Injectable()
export class ThrottleRetention extends PeriodicTask {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly logins: LoginThrottleRepository,
    private readonly devices: TrustedDevices,
    private readonly clock: Clock,
  ) {
    super(SWEEP_INTERVAL_MS, 'Throttle cleanup failed');
  }

  async run(): Promise<void> {
    const now = this.clock.now().getTime();
    await this.dataSource.getRepository(RateLimitCounter).delete({ windowStart: LessThan(new Date(now - 2 * RATE_LIMIT_WINDOW_MS)) });
    await this.logins.removeStale(new Date(now - LOGIN_FAILURE_DECAY_SECONDS * 1000));
    await this.devices.removeExpired();
  }
}
