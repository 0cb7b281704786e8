import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service.js';
import { KeyEncryption } from './key-encryption.js';
import { generateSigningKeyMaterial, type SigningKeyMaterial } from './key-material.js';
import { hasTransitions, planKeyTransitions, type KeyScheduleSettings, type KeyTransitions, type ScheduledKey } from './key-schedule.js';
import { SigningKey } from './signing-key.entity.js';

// Names "the signing-key lock" in pg_locks; every change to the key set happens under it.
export const SIGNING_KEYS_LOCK_KEY = 0x6b657973; // "keys"

/** On-demand rotation is the operator's when keys come from SIGNING_KEY_FILE. */
export class SuppliedKeyError extends Error {
  override readonly name = 'SuppliedKeyError';
  constructor() {
    super('Signing keys come from SIGNING_KEY_FILE: rotate by mounting a new key file');
  }
}

/**
 * Applies the key schedule to the signing_keys table. Every writer takes one advisory lock and
 * re-reads the table under it, so any number of replicas (and the CLI) agree: one key created per
 * rotation, exactly one active key.
 */
export class KeyRotation {
  private readonly logger = new Logger(KeyRotation.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly encryption: KeyEncryption,
    private readonly settings: KeyScheduleSettings,
    private readonly audit: AuditService,
    private readonly onKeyCreated: () => void = () => undefined,
    /** The operator's key from SIGNING_KEY_FILE; when set, no key is generated. */
    private readonly supplied?: SigningKeyMaterial,
  ) {}

  /** The lifecycle columns of every key, without key material. */
  async schedule(manager: EntityManager = this.dataSource.manager): Promise<ScheduledKey[]> {
    return manager.find(SigningKey, {
      select: { kid: true, state: true, activatesAt: true, retiresAt: true },
      order: { activatesAt: 'ASC' },
    });
  }

  /** Carries out what is due at `now`. When nothing is, that costs one read and no lock. */
  async advance(now: Date): Promise<ScheduledKey[]> {
    const plan = planKeyTransitions(await this.schedule(), now, this.settings, this.supplied?.kid);
    if (!hasTransitions(plan)) return this.schedule();
    // Generated before taking the lock: ~100 ms the other replicas need not wait for.
    const material = plan.create ? (this.supplied ?? (await generateSigningKeyMaterial())) : undefined;
    return this.underLock(async (manager) => {
      const current = planKeyTransitions(await this.schedule(manager), now, this.settings, this.supplied?.kid);
      await this.apply(manager, current, material, 'schedule');
      return this.schedule(manager);
    });
  }

  /**
   * Publishes a new key now; it signs from now + KEY_PUBLISH_AHEAD. While a published key is still
   * waiting, that key is the answer: concurrent requests never queue up several keys.
   */
  async rotateNow(now: Date, via: string): Promise<ScheduledKey> {
    if (this.supplied !== undefined) throw new SuppliedKeyError();
    const material = await generateSigningKeyMaterial();
    return this.underLock(async (manager) => {
      const pending = (await this.schedule(manager)).find((key) => key.state === 'next');
      if (pending !== undefined) return pending;
      const activatesAt = new Date(now.getTime() + this.settings.publishAheadSeconds * 1000);
      return this.insert(manager, material, 'next', activatesAt, via);
    });
  }

  private underLock<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK_KEY]);
      return work(manager);
    });
  }

  private async apply(manager: EntityManager, plan: KeyTransitions, material: SigningKeyMaterial | undefined, via: string): Promise<void> {
    if (plan.activate !== undefined) {
      // Retire first: the unique index allows one active row at every statement.
      const { retiring } = plan.activate;
      if (retiring !== undefined) {
        await manager.update(SigningKey, { kid: retiring.kid }, { state: 'retired', retiresAt: retiring.retiresAt });
      }
      await manager.update(SigningKey, { kid: plan.activate.kid }, { state: 'active' });
      this.logger.log(`Signing key ${plan.activate.kid} is now active${retiring ? `; ${retiring.kid} retired` : ''}`);
    }
    if (plan.remove.length > 0) {
      await manager.delete(SigningKey, plan.remove);
      this.logger.log(`Removed retired signing key(s) ${plan.remove.join(', ')}`);
    }
    // A creation planned only under the lock (the table changed meanwhile) waits for the next pass.
    if (plan.create !== undefined && material !== undefined) {
      await this.insert(manager, material, plan.create.state, plan.create.activatesAt, via);
    }
  }

  private async insert(
    manager: EntityManager,
    material: SigningKeyMaterial,
    state: 'active' | 'next',
    activatesAt: Date,
    via: string,
  ): Promise<ScheduledKey> {
    const { ciphertext, kekId } = this.encryption.encrypt(material.privateKeyDer, material.kid);
    await manager.insert(SigningKey, {
      kid: material.kid,
      state,
      publicJwk: material.publicJwk,
      privateKeyCiphertext: ciphertext,
      kekId,
      activatesAt,
      retiresAt: null,
    });
    await this.audit.record({ type: 'key_rotated', details: { kid: material.kid, state, activates_at: activatesAt.toISOString(), via } }, manager);
    this.onKeyCreated();
    this.logger.log(`Created signing key ${material.kid} (${state}, signs from ${activatesAt.toISOString()})`);
    return { kid: material.kid, state, activatesAt, retiresAt: null };
  }
}
