import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { resolveKeks } from './kek-source.js';
import { KeyEncryption } from './key-encryption.js';
import { generateSigningKeyMaterial } from './key-material.js';
import { SigningKey } from './signing-key.entity.js';

// Names "the signing-key lock" in pg_locks; replicas take it before creating or activating a key.
const SIGNING_KEYS_LOCK_KEY = 0x6b657973; // "keys"

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

/** The JWKS document, serialised once per key-set change and served as is. */
export interface PublishedJwks {
  readonly body: string;
  readonly etag: string;
}

/**
 * Holds the signing keys in memory as parsed KeyObjects, so that signing and verifying never
 * parse PEM/DER or touch the database on a request.
 */
@Injectable()
export class KeysService implements OnModuleInit {
  private readonly logger = new Logger(KeysService.name);
  private encryption!: KeyEncryption;
  private signing: ActiveSigningKey | undefined;
  private verificationKeys = new Map<string, KeyObject>();
  private jwks: PublishedJwks = { body: '{"keys":[]}', etag: '"empty"' };

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    this.encryption = new KeyEncryption(await resolveKeks(this.config.keys, this.logger));
    await this.ensureActiveKey();
    await this.reload();
  }

  signingKey(): ActiveSigningKey {
    if (this.signing === undefined) throw new Error('no active signing key is loaded');
    return this.signing;
  }

  hasSigningKey(): boolean {
    return this.signing !== undefined;
  }

  /** The public key for a kid that may verify tokens; undefined for any other kid (never fetched). */
  verificationKey(kid: string): KeyObject | undefined {
    return this.verificationKeys.get(kid);
  }

  publishedJwks(): PublishedJwks {
    return this.jwks;
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

  /** Creates the first key unless some replica has; the advisory lock makes that decision once. */
  private async ensureActiveKey(): Promise<void> {
    const keys = this.dataSource.getRepository(SigningKey);
    if ((await keys.countBy({ state: 'active' })) > 0) return;

    // Generated outside the transaction: it takes ~100 ms that the lock need not be held for.
    const material = await generateSigningKeyMaterial();
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK_KEY]);
      if ((await manager.countBy(SigningKey, { state: 'active' })) > 0) return;
      const { ciphertext, kekId } = this.encryption.encrypt(material.privateKeyDer, material.kid);
      await manager.insert(SigningKey, {
        kid: material.kid,
        state: 'active',
        publicJwk: material.publicJwk,
        privateKeyCiphertext: ciphertext,
        kekId,
        activatesAt: this.clock.now(),
        retiresAt: null,
      });
      this.logger.log(`Created signing key ${material.kid}`);
    });
  }

  /** Rebuilds the in-memory key set and the JWKS body from the table. */
  async reload(): Promise<void> {
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
    this.verificationKeys = new Map(
      rows.filter((row) => row.state !== 'next').map((row) => [row.kid, createPublicKey({ key: row.publicJwk, format: 'jwk' })]),
    );
    const body = JSON.stringify({
      keys: rows.map((row) => ({ ...row.publicJwk, kid: row.kid, alg: 'RS256', use: 'sig' })),
    });
    this.jwks = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
  }
}
