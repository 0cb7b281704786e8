import type { DataSource } from 'typeorm';
import { inBatches } from '../database/in-batches.js';
import { type KeyEncryption, UnknownKekError } from './key-encryption.js';

/** Where a feature keeps secrets encrypted under a KEK: one row per secret, the KEK's id beside it. */
export interface SealedColumn {
  readonly table: string;
  /** The primary key column; its value (as text) identifies the secret. */
  readonly key: string;
  readonly ciphertext: string;
  /** The associated data the secret was sealed with. */
  readonly context: (key: string) => string;
  /** Names the secret in an error, never its content. */
  readonly describe: (key: string) => string;
}

const BATCH_ROWS = 500;

/**
 * Re-encrypts every secret of `column` that is not under the newest KEK of KEYS_KEK, a batch per
 * transaction (each row locked only for its batch), so that the older KEKs can then be removed.
 * Idempotent: a second run finds nothing to do.
 * @returns how many secrets were re-encrypted
 * @throws UnknownKekError naming the first secret that does not decrypt with KEYS_KEK; batches before it stay done
 */
export async function rewrapUnderNewestKek(dataSource: DataSource, encryption: KeyEncryption, column: SealedColumn): Promise<number> {
  const { table, key, ciphertext } = column;
  return inBatches(BATCH_ROWS, () =>
    dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `SELECT ${key}::text AS key, ${ciphertext} AS ciphertext, kek_id AS "kekId" FROM ${table}
          WHERE kek_id <> $1 ORDER BY ${key} LIMIT ${BATCH_ROWS} FOR UPDATE`,
        [encryption.currentKekId],
      )) as Array<{ key: string; ciphertext: Buffer; kekId: string }>;
      for (const row of rows) {
        let plaintext: Buffer;
        try {
          plaintext = encryption.decrypt(row.ciphertext, column.context(row.key), row.kekId);
        } catch {
          throw new UnknownKekError(`${column.describe(row.key)} is encrypted under KEK ${row.kekId} and does not decrypt with KEYS_KEK`);
        }
        const sealed = encryption.encrypt(plaintext, column.context(row.key));
        await manager.query(`UPDATE ${table} SET ${ciphertext} = $2, kek_id = $3 WHERE ${key} = $1`, [row.key, sealed.ciphertext, sealed.kekId]);
      }
      return rows.length;
    }),
  );
}

/** The private signing keys, sealed with their kid as associated data. */
export const SIGNING_KEY_SECRETS: SealedColumn = {
  table: 'signing_keys',
  key: 'kid',
  ciphertext: 'private_key_ciphertext',
  context: (kid) => kid,
  describe: (kid) => `signing key ${kid}`,
};
