import { Inject, Injectable } from '@nestjs/common';
import { Algorithm, hash, verify, type Options } from '@node-rs/argon2';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** argon2id on libuv's thread pool: a login costs ~7 ms of a worker thread, never of the event loop. */
@Injectable()
export class PasswordHasher {
  private readonly options: Options;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.options = {
      algorithm: Algorithm.Argon2id,
      memoryCost: config.argon2.memoryCostKib,
      timeCost: config.argon2.timeCost,
      parallelism: config.argon2.parallelism,
    };
  }

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  /** The comparison inside argon2 is constant-time; a malformed stored hash counts as a mismatch. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    return verify(passwordHash, password).catch(() => false);
  }
}
