import { Module } from '@nestjs/common';
import { LoginThrottleRepository } from './login-throttle.repository.js';
import { LoginThrottle } from './login-throttle.service.js';
import { RateLimiter } from './rate-limiter.js';
import { ThrottleRetention } from './throttle-retention.js';
import { TrustedDevices } from './trusted-devices.js';

@Module({
  providers: [RateLimiter, LoginThrottle, LoginThrottleRepository, TrustedDevices, ThrottleRetention],
  exports: [RateLimiter, LoginThrottle, TrustedDevices],
})
export class ThrottleModule {}
