import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { ApiError } from '../common/errors/api-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { guessBudget, LOGIN_FAILURE_DECAY_SECONDS, loginBackoffSeconds } from './backoff.js';
import { clientNetwork } from './client-network.js';
import { LoginThrottleRepository, type Admission, type ClientFailures, type SpentBudget } from './login-throttle.repository.js';
import { RefusalMemory } from './refusal-memory.js';
import { TrustedDevices } from './trusted-devices.js';

/** Where a login attempt comes from: its address, and the device proof it presented, if any. */
export interface LoginClient {
  readonly ip: string | null;
  readonly deviceProof?: string;
}

/** A login attempt counted as a failure until `succeeded` says otherwise. */
export interface LoginAttempt {
  readonly accountKey: Buffer;
  readonly clientKey: string;
  /** The client is not one of the account's trusted devices: the attempt spent the account's budget. */
  readonly budgeted: boolean;
}

// A refusal is remembered in process for at most this long, so an admin's clearing of an account
// reaches every replica within seconds while a flood still costs each replica one query per key
// per interval.
const LOGIN_REFUSAL_MEMORY_MS = 5_000;
const LOGIN_REFUSAL_MEMORY_ENTRIES = 100_000;

/**
 * Login throttling that slows guessing without locking the real user out (see the README's
 * Security section for the policy and its numbers):
 * - each client (a trusted device, else a network) has its own backoff per account, so nobody
 *   else's failures delay the real user's own device;
 * - clients the account has not seen succeed share an hourly guess budget, so rotating through
 *   addresses buys an attacker nothing; the account's trusted devices are exempt from it;
 * - a success clears only its own client's failures and returns only the guess it spent, so the
 *   real user's logins never hand an attacker fresh guesses.
 * Attempts are reserved before the password is checked: of many parallel guesses only the admitted
 * ones get an argon2 check, and a refused one is answered 429 whether or not it was right.
 */
@Injectable()
export class LoginThrottle {
  private readonly refusals = new RefusalMemory(LOGIN_REFUSAL_MEMORY_ENTRIES, LOGIN_REFUSAL_MEMORY_MS);

  constructor(
    private readonly repository: LoginThrottleRepository,
    private readonly devices: TrustedDevices,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * @param email canonical; only its hash is stored
   * @throws ApiError 429 with Retry-After while this client's backoff or the account's budget says wait
   */
  async reserve(email: string, client: LoginClient): Promise<LoginAttempt> {
    const accountKey = createHash('sha256').update(email).digest();
    const now = this.clock.now();
    const memoryKey = (key: string) => `${accountKey.toString('base64url')}:${key}`;
    const refusedFor = (key: string) => this.refusals.remaining(memoryKey(key), now.getTime());
    const deviceKey = TrustedDevices.isWellFormed(client.deviceProof) ? TrustedDevices.clientKey(client.deviceProof) : undefined;
    const networkKey = `network:${clientNetwork(client.ip ?? 'unknown', this.config.throttling.ipv6PrefixLength)}`;

    // While a refusal this replica already heard of runs, the answer needs no query at all.
    if (deviceKey !== undefined && refusedFor(deviceKey) > 0) throw ApiError.rateLimited(refusedFor(deviceKey) / 1000);
    const trusted = deviceKey !== undefined && (await this.devices.recognizes(client.deviceProof!, email));
    const untrustedWait = trusted ? 0 : Math.max(refusedFor(networkKey), refusedFor('account'));
    if (untrustedWait > 0) throw ApiError.rateLimited(untrustedWait / 1000);

    const attempt: LoginAttempt = { accountKey, clientKey: trusted ? deviceKey : networkKey, budgeted: !trusted };
    const admission = await this.repository.reserve(accountKey, attempt.clientKey, attempt.budgeted, now, (failures, budget) =>
      this.admit(now, failures, budget),
    );
    if (!admission.admitted) {
      this.metrics.rateLimited.inc({ throttle: `login_${admission.refusedBy}` });
      const refusedKey = admission.refusedBy === 'account' ? 'account' : attempt.clientKey;
      this.refusals.remember(memoryKey(refusedKey), now.getTime() + admission.retryAfterMs, now.getTime());
      throw ApiError.rateLimited(admission.retryAfterMs / 1000);
    }
    return attempt;
  }

  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.repository.succeeded(attempt.accountKey, attempt.clientKey, attempt.budgeted);
  }

  /** Forgets every client's failures and the spent budget of the account (an admin's decision). */
  async clear(manager: EntityManager, email: string): Promise<void> {
    const accountKey = createHash('sha256').update(email).digest();
    await this.repository.clear(manager, accountKey);
    this.refusals.forget(`${accountKey.toString('base64url')}:`);
  }

  private admit(now: Date, client: ClientFailures, budget: SpentBudget | undefined): Admission {
    const { loginFreeFailures, loginMaxBackoffSeconds, loginAccountGuessesPerHour } = this.config.throttling;
    if (client.nextAttemptAt > now) {
      return { admitted: false, retryAfterMs: client.nextAttemptAt.getTime() - now.getTime(), refusedBy: 'client' };
    }
    const account = budget && guessBudget(budget.spent, (now.getTime() - budget.updatedAt.getTime()) / 1000, loginAccountGuessesPerHour);
    if (account !== undefined && account.waitSeconds > 0) {
      return { admitted: false, retryAfterMs: account.waitSeconds * 1000, refusedBy: 'account' };
    }
    const forgotten = now.getTime() - client.updatedAt.getTime() > LOGIN_FAILURE_DECAY_SECONDS * 1000;
    const failures = (forgotten ? 0 : client.failures) + 1;
    const delaySeconds = loginBackoffSeconds(failures, loginFreeFailures, loginMaxBackoffSeconds);
    return {
      admitted: true,
      client: { failures, nextAttemptAt: new Date(now.getTime() + delaySeconds * 1000) },
      budgetSpent: account === undefined ? undefined : account.spent + 1,
    };
  }
}
