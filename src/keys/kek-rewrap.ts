import type { DataSource } from 'typeorm';
import { inBatches } from '../database/in-batches.js';
import type { KeyEncryption } from './key-encryption.js';
import { SIGNING_KEYS_LOCK_KEY } from './key-rotation.js';

/** Where a feature keeps secrets encrypted under a KEK: one row per secret, the KEK's id beside it. */
export interface SealedColumn {
  readonly table: string;
  /** The primary key column; its value (as text) identifies the secret. */
  readonly key: string;
  readonly ciphertext: string;
  /** The associated data the secret was sealed with. */
  readonly context: (key: string) => string;
  /** Names the secret in a message, never its content. */
  readonly describe: (key: string) => string;
  /** What an operator can do about a secret that does not decrypt under the KEK its row names. */
  readonly whenDamaged: (key: string) => string;
  /** The advisory lock every other writer of the table takes first, if there is one. */
  readonly writersLock?: number;
}

/** A secret the rewrap cannot carry over; the message says which and what to do. */
export class RewrapRefused extends Error {
  override readonly name = 'RewrapRefused';
}

const BATCH_ROWS = 500;

/**
 * Re-encrypts every secret of `column` that is not under the newest KEK of KEYS_KEK, a batch per
 * transaction (each row locked only for its batch), so that the older KEKs can then be removed.
 * Idempotent: a second run finds nothing to do.
 * @returns how many secrets were re-encrypted
 * @throws RewrapRefused naming the first secret that cannot be decrypted; its batch is rolled back, earlier ones stay done
 */
export async function rewrapUnderNewestKek(dataSource: DataSource, encryption: KeyEncryption, column: SealedColumn): Promise<number> {
  const { table, key, ciphertext } = column;
  return inBatches(BATCH_ROWS, () =>
    dataSource.transaction(async (manager) => {
      // In the order the table's other writers lock: the key schedule takes its lock before the rows.
      if (column.writersLock !== undefined) await manager.query('SELECT pg_advisory_xact_lock($1)', [column.writersLock]);
      const rows = (await manager.query(
        `SELECT ${key}::text AS key, ${ciphertext} AS ciphertext, kek_id AS "kekId" FROM ${table}
          WHERE kek_id <> $1 ORDER BY ${key} LIMIT ${BATCH_ROWS} FOR UPDATE`,
        [encryption.currentKekId],
      )) as Array<{ key: string; ciphertext: Buffer; kekId: string }>;
      for (const row of rows) {
        if (!encryption.holds(row.kekId)) {
          throw new RewrapRefused(
            `${column.describe(row.key)} is encrypted under KEK ${row.kekId}, which KEYS_KEK does not hold: add it to KEYS_KEK and run again`,
          );
        }
        let plaintext: Buffer;
        try {
          plaintext = encryption.decrypt(row.ciphertext, column.context(row.key), row.kekId);
        } catch {
          throw new RewrapRefused(
            `${column.describe(row.key)} does not decrypt under KEK ${row.kekId} (damaged, or copied from another row): ${column.whenDamaged(row.key)}`,
          );
        }
        const sealed = encryption.encrypt(plaintext, column.context(row.key));
        await manager.query(`UPDATE ${table} SET ${ciphertext} = $2, kek_id = $3 WHERE ${key} = $1`, [row.key, sealed.ciphertext, sealed.kekId]);
      }
      return rows.length;
    }),
  );
}

/** Secrets of `column` under another KEK than the newest: what a replica with an older KEYS_KEK wrote meanwhile. */
export async function countNotUnderNewestKek(dataSource: DataSource, encryption: KeyEncryption, column: SealedColumn): Promise<number> {
  const [{ n }] = (await dataSource.query(`SELECT count(*)::int AS n FROM ${column.table} WHERE kek_id <> $1`, [encryption.currentKekId])) as [
    { n: number },
  ];
  return n;
}

/** The private signing keys, sealed with their kid as associated data. */
export const SIGNING_KEY_SECRETS: SealedColumn = {
  table: 'signing_keys',
  key: 'kid',
  ciphertext: 'private_key_ciphertext',
  context: (kid) => kid,
  describe: (kid) => `signing key ${kid}`,
  whenDamaged: () => 'restore the row from a backup, then run again',
  writersLock: SIGNING_KEYS_LOCK_KEY,
};
