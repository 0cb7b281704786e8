import { Injectable } from '@nestjs/common';

/**
 * The service's only source of "now". Expiry decisions read it instead of Date or SQL now(), so
 * tests move time forward by replacing this one method rather than by sleeping.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  nowSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }
}
