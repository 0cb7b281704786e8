import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { KeysService } from '../keys/keys.service.js';
import { RevocationList } from '../sessions/revocation-list.service.js';

/**
 * How long readiness waits for the database before answering 503. Far below probe timeouts, so a
 * frozen database (connections open, nothing answering) fails the probe instead of hanging it.
 */
export const READINESS_DATABASE_TIMEOUT_MS = 2000;

export type ListenerHealth = 'ok' | 'degraded';

@Injectable()
export class HealthService {
  /** One `SELECT 1` at a time, whatever the probe rate: a hung one is shared, not piled up in the pool. */
  private databaseCheck: Promise<boolean> | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keys: KeysService,
    private readonly revocations: RevocationList,
  ) {}

  /** Why the service cannot serve, or undefined when it can. */
  async readinessProblem(): Promise<string | undefined> {
    if (!this.keys.hasSigningKey()) return 'No signing key loaded';
    if (this.keys.keyProblem() !== undefined) return 'Stored signing keys cannot be decrypted with KEYS_KEK (see the log)';
    this.databaseCheck ??= this.dataSource.query('SELECT 1').then(
      () => true,
      () => false,
    );
    const check = this.databaseCheck;
    void check.finally(() => {
      if (this.databaseCheck === check) this.databaseCheck = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), READINESS_DATABASE_TIMEOUT_MS);
      timer.unref();
    });
    const answered = await Promise.race([check, timedOut]);
    clearTimeout(timer);
    return answered ? undefined : 'Database unreachable';
  }

  /**
   * `degraded` while the revocation listener reconnects. Not a readiness failure: the replica then
   * reloads the revocation list every second, so it still refuses revoked tokens (within about a
   * second instead of milliseconds), and taking every replica out at once for it would turn a
   * listener problem into an outage.
   */
  listenerHealth(): ListenerHealth {
    return this.revocations.listenerState === 'listening' ? 'ok' : 'degraded';
  }
}
