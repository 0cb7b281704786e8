import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type SigningKeyState = 'next' | 'active' | 'retired';

/** One RSA signing key. The private half is stored only encrypted under a KEK (see KeyEncryption). */
@Entity({ name: 'signing_keys' })
@Check('signing_keys_state_check', `"state" IN ('next', 'active', 'retired')`)
// At most one row may sign at any moment, whatever the number of replicas.
@Index('signing_keys_one_active', ['state'], { unique: true, where: `"state" = 'active'` })
export class SigningKey {
  /** RFC 7638 JWK thumbprint of the public key. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'signing_keys_pkey' })
  kid!: string;

  @Column({ type: 'text' })
  state!: SigningKeyState;

  /** Public members only (kty, n, e), as published in the JWKS. */
  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: { kty: 'RSA'; n: string; e: string };

  /** AES-256-GCM: 12-byte IV, 16-byte tag, then the encrypted PKCS#8 DER. */
  @Column({ name: 'private_key_ciphertext', type: 'bytea' })
  privateKeyCiphertext!: Buffer;

  /** Which KEK encrypted the private key: the first 8 bytes of its SHA-256, in hex. */
  @Column({ name: 'kek_id', type: 'text' })
  kekId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'activates_at', type: 'timestamptz' })
  activatesAt!: Date;

  @Column({ name: 'retires_at', type: 'timestamptz', nullable: true })
  retiresAt!: Date | null;
}
