import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ApiError } from '../common/errors/api-error.js';
import { Clock } from '../common/clock.js';
import { repeatInBackground } from '../common/repeat.js';
import { prepareDocument, type PreparedDocument } from '../common/prepared-document.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { resolveKeks } from './kek-source.js';
import { KeyEncryption, UnknownKekError } from './key-encryption.js';
import { loadSigningKeyFile } from './key-material.js';
import { KeyRotation, SuppliedKeyError } from './key-rotation.js';
import { jwksMaxAgeSeconds, type KeyScheduleSettings, type ScheduledKey } from './key-schedule.js';
import { SigningKey } from './signing-key.entity.js';

/** How often each replica applies the schedule and picks up changes made by the others. */
const SYNC_INTERVAL_MS = 5000;

export interface ActiveSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export interface SigningKeySummary {
  kid: string;
  state: SigningKey['state'];
  created_at: Date;
  activates_at: Date;
  retires_at: Date | null;
}

export function keySchedule(config: AppConfig): KeyScheduleSettings {
  return {
    rotationIntervalSeconds: config.keys.rotationIntervalSeconds,
    publishAheadSeconds: config.keys.publishAheadSeconds,
    retireAfterSeconds: config.tokens.accessTokenTtlSeconds + config.tokens.clockSkewSeconds,
    clockSkewSeconds: config.tokens.clockSkewSeconds,
  };
}

const fingerprint = (keys: readonly ScheduledKey[]) => keys.map((key) => `${key.kid}:${key.state}`).join(',');

/**
 * Holds the signing keys in memory as parsed KeyObjects, so that signing and verifying never
 * parse PEM/DER or touch the database on a request. Every few seconds it applies the rotation
 * schedule and reloads when the key set changed, here or on another replica.
 */
@Injectable()
export class KeysService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(KeysService.name);
  private readonly settings: KeyScheduleSettings;
  private encryption!: KeyEncryption;
  private rotation!: KeyRotation;
  private schedule: ScheduledKey[] = [];
  private signing: ActiveSigningKey | undefined;
  private verificationKeys = new Map<string, KeyObject>();
  private jwks: PreparedDocument = prepareDocument('{"keys":[]}');
  private syncing: Promise<void> = Promise.resolve();
  /** Why the stored keys cannot be loaded (a KEK this replica lacks), while that lasts. */
  private loadProblem: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {
    this.settings = keySchedule(config);
    metrics.observeGauge('auth_signing_key_age_seconds', 'Seconds since the active signing key began to sign', () => {
      const active = this.schedule.find((key) => key.state === 'active');
      return active === undefined ? 0 : (this.clock.now().getTime() - active.activatesAt.getTime()) / 1000;
    });
  }

  async onModuleInit(): Promise<void> {
    this.encryption = new KeyEncryption(await resolveKeks(this.config.keys, this.logger));
    const supplied = this.config.keys.signingKeyFile === undefined ? undefined : await loadSigningKeyFile(this.config.keys.signingKeyFile);
    this.rotation = new KeyRotation(this.dataSource, this.encryption, this.settings, this.audit, () => this.metrics.keyRotations.inc(), supplied);
    await this.sync();
    this.timer = repeatInBackground(SYNC_INTERVAL_MS, () => this.sync(), this.logger, 'Signing-key sync failed; keeping the loaded keys');
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /**
   * Encrypts another secret at rest (a TOTP secret) under the newest KEK, like the private signing
   * keys. `context` is bound in as associated data (say `totp:<user id>`): a ciphertext copied
   * onto another row does not decrypt.
   */
  sealSecret(plaintext: Buffer, context: string): { ciphertext: Buffer; kekId: string } {
    return this.encryption.encrypt(plaintext, context);
  }

  /** Whether KEYS_KEK holds the KEK of this id (the ids stored beside each ciphertext). */
  holdsKek(kekId: string): boolean {
    return this.encryption.holds(kekId);
  }

  /** @throws when the KEK is not configured or the ciphertext or context do not match */
  openSecret(ciphertext: Buffer, context: string, kekId: string): Buffer {
    return this.encryption.decrypt(ciphertext, context, kekId);
  }

  signingKey(): ActiveSigningKey {
    if (this.signing === undefined) throw new Error('no active signing key is loaded');
    return this.signing;
  }

  hasSigningKey(): boolean {
    return this.signing !== undefined;
  }

  /** The public key of a published kid (next, active or retired); undefined otherwise, never fetched. */
  verificationKey(kid: string): KeyObject | undefined {
    return this.verificationKeys.get(kid);
  }

  /** The JWKS document, serialised once per key-set change and served as is. */
  publishedJwks(): PreparedDocument {
    return this.jwks;
  }

  jwksMaxAgeSeconds(): number {
    return jwksMaxAgeSeconds(this.schedule, this.clock.now(), this.settings);
  }

  /** Publishes a new key that signs after KEY_PUBLISH_AHEAD; see KeyRotation.rotateNow. */
  async rotate(via: string): Promise<ScheduledKey> {
    const key = await this.rotation.rotateNow(this.clock.now(), via).catch((error: unknown) => {
      throw error instanceof SuppliedKeyError ? ApiError.conflict(error.message) : error;
    });
    await this.sync();
    return key;
  }

  /**
   * Applies what the schedule says is due, then reloads if the key set changed. Calls run one at a
   * time. A key this replica cannot decrypt keeps the keys it has, fails readiness and is logged
   * once, not at every sync.
   */
  sync(): Promise<void> {
    this.syncing = this.syncing
      .catch(() => undefined)
      .then(async () => {
        const schedule = await this.rotation.advance(this.clock.now());
        if (fingerprint(schedule) !== fingerprint(this.schedule) || this.signing === undefined) {
          try {
            await this.reload();
          } catch (error) {
            if (!(error instanceof UnknownKekError) || this.signing === undefined) throw error;
            if (this.loadProblem !== error.message) this.logger.error(`Cannot load the signing keys, keeping the loaded ones: ${error.message}`);
            this.loadProblem = error.message;
            return;
          }
          if (this.loadProblem !== undefined) this.logger.log('The signing keys load again');
          this.loadProblem = undefined;
        }
        this.schedule = schedule;
      });
    return this.syncing;
  }

  /** Why this replica cannot load the stored keys, or undefined when it can. */
  keyProblem(): string | undefined {
    return this.loadProblem;
  }

  async list(): Promise<SigningKeySummary[]> {
    const rows = await this.dataSource.getRepository(SigningKey).find({
      select: { kid: true, state: true, createdAt: true, activatesAt: true, retiresAt: true },
      order: { activatesAt: 'DESC' },
    });
    return rows.map((row) => ({
      kid: row.kid,
      state: row.state,
      created_at: row.createdAt,
      activates_at: row.activatesAt,
      retires_at: row.retiresAt,
    }));
  }

  /** Rebuilds the in-memory key set and the JWKS body from the table. */
  private async reload(): Promise<void> {
    const rows = await this.dataSource.getRepository(SigningKey).find({ order: { activatesAt: 'ASC' } });
    const active = rows.find((row) => row.state === 'active');

    this.signing =
      active === undefined
        ? undefined
        : {
            kid: active.kid,
            privateKey: createPrivateKey({
              key: this.encryption.decrypt(active.privateKeyCiphertext, active.kid, active.kekId),
              format: 'der',
              type: 'pkcs8',
            }),
          };
    // Every published key verifies, the next one included: another replica (its clock a little
    // ahead, or its sync a little earlier) may already sign with it, and only our replicas hold it.
    this.verificationKeys = new Map(rows.map((row) => [row.kid, createPublicKey({ key: row.publicJwk, format: 'jwk' })]));
    const body = JSON.stringify({
      keys: rows.map((row) => ({ ...row.publicJwk, kid: row.kid, alg: 'RS256', use: 'sig' })),
    });
    this.jwks = prepareDocument(body);
  }
}
