import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;

/** Why a connection attempt failed, in words safe for a log line (pg's messages name no password). */
function reasonOf(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return [code, message].filter(Boolean).join(': ') || String(error);
}

/**
 * Tries the database until it answers `SELECT 1`, one log line per failed attempt saying why, and
 * gives up after `timeoutSeconds` with the last reason. Boot waits here before loading the app, so
 * an unreachable database is reported at once instead of after a silent retry loop.
 */
export async function waitForDatabase(url: string, timeoutSeconds: number, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let retryMs = FIRST_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: MAX_RETRY_MS, application_name: 'auth-service startup' });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() + retryMs > deadline) {
        throw new Error(`The database did not answer within ${timeoutSeconds} s (DATABASE_STARTUP_TIMEOUT): ${reasonOf(error)}`, { cause: error });
      }
      log(`Waiting for the database (attempt ${attempt}): ${reasonOf(error)}; retrying in ${retryMs} ms`);
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }
}
