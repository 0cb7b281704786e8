import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify, type Options } from '@node-rs/argon2';
import pLimit from 'p-limit';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { canonicalPassword } from './password-policy.js';

/**
 * Hashes at once: one per core, at most libuv's 4 pool threads. More than there are cores only
 * take CPU from the event loop and Postgres (and each holds ARGON2_MEMORY_COST); on the 2-core
 * bench machine, 2 at once instead of 4 cut /auth/me's p99 during a login flood from 21–23 to
 * 13–14 ms and logged in 8 % more per second.
 */
const HASHES_AT_ONCE = Math.min(availableParallelism(), 4);

/** argon2id on libuv's thread pool: a login costs ~7 ms of a worker thread, never of the event loop. */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly options: Options;
  private readonly hashing = pLimit(HASHES_AT_ONCE);
  private dummyHash = '';

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.options = {
      algorithm: Algorithm.Argon2id,
      memoryCost: config.argon2.memoryCostKib,
      timeCost: config.argon2.timeCost,
      parallelism: config.argon2.parallelism,
    };
  }

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash(randomBytes(32).toString('base64'));
  }

  /** Hashes the NFKC form (NIST SP 800-63B §5.1.1.2), so one password typed on any keyboard is one password. */
  hash(password: string): Promise<string> {
    return this.hashing(() => hash(canonicalPassword(password), this.options));
  }

  /**
   * Checks the NFKC form; a hash made before passwords were normalised may hold the raw form, so
   * when the two differ and the NFKC form does not match, the raw form is tried once:
   * `'legacy'` means it matched and the hash should be replaced by one of the NFKC form.
   */
  async verify(passwordHash: string, password: string): Promise<'match' | 'legacy' | 'mismatch'> {
    const canonical = canonicalPassword(password);
    if (await this.argon2Verify(passwordHash, canonical)) return 'match';
    if (canonical !== password && (await this.argon2Verify(passwordHash, password))) return 'legacy';
    return 'mismatch';
  }

  /** The comparison inside argon2 is constant-time; a malformed stored hash counts as a mismatch. */
  private argon2Verify(passwordHash: string, password: string): Promise<boolean> {
    return this.hashing(() => verify(passwordHash, password)).catch(() => false);
  }

  /** True when the hash was made with other (older) parameters than the configured ones. */
  needsRehash(passwordHash: string): boolean {
    const { memoryCost, timeCost, parallelism } = this.options;
    return !passwordHash.startsWith(`$argon2id$v=19$m=${memoryCost},t=${timeCost},p=${parallelism}$`);
  }

  /**
   * Spends the same time as verify() against a real hash with the current parameters, so a login
   * for an unknown email cannot be told from a wrong password by timing. Always false.
   */
  async verifyAgainstDummy(password: string): Promise<false> {
    await this.verify(this.dummyHash, password);
    return false;
  }
}
