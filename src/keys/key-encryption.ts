import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function kekId(kek: Buffer): string {
  return createHash('sha256').update(kek).digest('hex').slice(0, 16);
}

export class UnknownKekError extends Error {
  override readonly name = 'UnknownKekError';
}

/**
 * Envelope encryption of private signing keys under key-encryption keys (KEKs). The newest KEK
 * encrypts; every configured KEK can decrypt, so KEYS_KEK can be rotated by prepending a new one.
 * The kid is bound in as associated data: a ciphertext copied onto another row does not decrypt.
 */
export class KeyEncryption {
  private readonly keks: Map<string, Buffer>;
  /** The KEK that encrypts: the first of KEYS_KEK. */
  readonly currentKekId: string;

  constructor(keks: readonly Buffer[]) {
    if (keks.length === 0 || keks.some((kek) => kek.length !== 32)) throw new Error('KEKs must be 32 bytes each');
    this.keks = new Map(keks.map((kek) => [kekId(kek), kek]));
    this.currentKekId = kekId(keks[0]!);
  }

  encrypt(plaintext: Buffer, kid: string): { ciphertext: Buffer; kekId: string } {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keks.get(this.currentKekId)!, iv);
    cipher.setAAD(Buffer.from(kid));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]), kekId: this.currentKekId };
  }

  /**
   * Refuses KEKs that would split the key set: every stored key must decrypt, and new keys must be
   * encrypted under the KEK that encrypted the newest stored one (the one the running service
   * encrypts with). A tool holding another KEK would write keys no replica can read.
   * @param stored oldest first
   * @throws UnknownKekError naming the first key that does not fit
   */
  assertMatchesStored(stored: ReadonlyArray<{ kid: string; kekId: string; privateKeyCiphertext: Buffer }>): void {
    for (const key of stored) {
      try {
        this.decrypt(key.privateKeyCiphertext, key.kid, key.kekId);
      } catch (error) {
        if (error instanceof UnknownKekError) throw error;
        throw new UnknownKekError(`signing key ${key.kid} does not decrypt under KEK ${key.kekId} as configured in KEYS_KEK`);
      }
    }
    const newest = stored.at(-1);
    if (newest !== undefined && newest.kekId !== this.currentKekId) {
      throw new UnknownKekError(
        `the newest signing key ${newest.kid} is encrypted under KEK ${newest.kekId}, but the first KEK in KEYS_KEK is ${this.currentKekId}: use the running service's KEYS_KEK`,
      );
    }
  }

  holds(id: string): boolean {
    return this.keks.has(id);
  }

  decrypt(ciphertext: Buffer, kid: string, id: string): Buffer {
    const kek = this.keks.get(id);
    if (kek === undefined) throw new UnknownKekError(`signing key ${kid} is encrypted under KEK ${id}, which KEYS_KEK does not hold`);
    const decipher = createDecipheriv('aes-256-gcm', kek, ciphertext.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(kid));
    decipher.setAuthTag(ciphertext.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(ciphertext.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  }
}
