import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs a retention batch (an UPDATE or DELETE over `… LIMIT batchSize FOR UPDATE SKIP LOCKED`)
 * until one comes back short: each transaction holds its locks briefly, and replicas sweeping side
 * by side skip each other's rows.
 * @param runBatch one batch; resolves with the rows it affected
 * @returns the rows affected in all
 */
export async function inBatches(batchSize: number, runBatch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const affected = await runBatch();
    total += affected;
    if (affected < batchSize) return total;
  }
}

/** The row count of an UPDATE or DELETE run as raw SQL. */
export async function affectedRows(runner: DataSource | EntityManager, sql: string, parameters: unknown[]): Promise<number> {
  const [, affected] = (await runner.query(sql, parameters)) as [unknown, number];
  return affected;
}
