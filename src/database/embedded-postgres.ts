import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A postgres:// URL that the ordinary `pg` driver connects to. */
  readonly url: string;
  stop(): Promise<void>;
}

// Extended-query protocol messages (Parse, Bind, Describe, Execute, Close, Flush): a batch of them
// is only complete at the client's Sync.
const EXTENDED_QUERY_MESSAGES = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((type) => type.charCodeAt(0)));

/**
 * pglite-socket queues single protocol messages from all connections, keeping one connection's
 * messages together only inside a transaction. A parameterised query outside one (Parse, Bind,
 * Execute, Sync) could then interleave with another connection's and fail with "unnamed prepared
 * statement does not exist". Reporting an open batch as "in a transaction" makes the queue keep
 * each batch whole, as a real server does per connection.
 */
function keepingQueryBatchesWhole(db: PGlite): PGlite {
  let batchOpen = false;
  return new Proxy(db, {
    get(target, property) {
      if (property === 'isInTransaction') return () => batchOpen || target.isInTransaction();
      if (property === 'execProtocolRawStream') {
        return (message: Uint8Array, options: Parameters<PGlite['execProtocolRawStream']>[1]) => {
          batchOpen = EXTENDED_QUERY_MESSAGES.has(message[0]!);
          return target.execProtocolRawStream(message, options);
        };
      }
      if (property === 'exec') {
        // The socket server's rollback of a dropped connection also ends its unfinished batch.
        return (...args: Parameters<PGlite['exec']>) => {
          batchOpen = false;
          return target.exec(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Starts PGlite behind a Postgres wire-protocol socket on a free loopback port, so the app runs the
 * same driver, pool and migrations as against a real server. `dataDir` undefined keeps it in memory.
 */
export async function startEmbeddedPostgres(options: { dataDir: string | undefined; maxConnections: number }): Promise<EmbeddedPostgres> {
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  // Every pool connection needs a slot, or the extras are dropped ("Connection terminated unexpectedly").
  const server = new PGLiteSocketServer({
    db: keepingQueryBatchesWhole(db),
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections,
  });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
