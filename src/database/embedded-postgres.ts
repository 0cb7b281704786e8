import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A postgres:// URL that the ordinary `pg` driver connects to. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite behind a Postgres wire-protocol socket on a free loopback port, so the app runs the
 * same driver, pool and migrations as against a real server. `dataDir` undefined keeps it in memory.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string | undefined;
  maxConnections: number;
}): Promise<EmbeddedPostgres> {
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  // Every pool connection needs a slot, or the extras are dropped ("Connection terminated unexpectedly").
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: options.maxConnections });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
