import { Logger } from '@nestjs/common';
import { createLogger, PinoLoggerService } from './common/logging.js';
import { ConfigError, loadConfig, redactDatabaseUrl, withDatabaseUrl } from './config/app-config.js';
import type { EmbeddedPostgres } from './database/embedded-postgres.js';
import { waitForDatabase } from './database/wait-for-database.js';

const SHUTDOWN_DEADLINE_MS = 15_000;

/**
 * Everything after the port is held: configuration, the database (embedded, or waited for), then
 * the application, which takes the port over from the start-up server.
 * @param stopServingStartup closes the start-up server (a no-op if it could not take the port)
 */
export async function bootstrap(stopServingStartup: () => Promise<void>): Promise<void> {
  let config = loadConfig();
  Logger.overrideLogger(new PinoLoggerService(createLogger(config.logLevel)));
  const logger = new Logger('Bootstrap');

  let embedded: EmbeddedPostgres | undefined;
  if (config.database.url === undefined) {
    // PGlite is a development dependency: production images do not carry it (they need DATABASE_URL).
    const { startEmbeddedPostgres } = await import('./database/embedded-postgres.js').catch((error: unknown) => {
      throw new ConfigError(
        `DATABASE_URL: is not set, and the embedded Postgres is not installed (npm ci with the development dependencies): ${String(error)}`,
      );
    });
    embedded = await startEmbeddedPostgres({
      dataDir: config.database.embeddedDataDir,
      maxConnections: config.database.poolSize + 2,
    });
    logger.warn(
      `DATABASE_URL is not set: using the EMBEDDED Postgres (PGlite) with data in ${config.database.embeddedDataDir}. ` +
        'This is for development only; set DATABASE_URL to a real PostgreSQL server for anything else.',
    );
    config = withDatabaseUrl(config, embedded.url);
  } else {
    logger.log(`Using PostgreSQL at ${redactDatabaseUrl(config.database.url)}`);
    await waitForDatabase(config.database.url, config.database.startupTimeoutSeconds, (line) => logger.warn(line));
  }

  // Loaded only now (Nest, TypeORM and the app's modules take a second or two): the port is
  // already held by the start-up server meanwhile.
  const { createApp } = await import('./create-app.js');
  const app = await createApp(config);
  await stopServingStartup();
  await app.listen(config.port, config.host);
  logger.log(`Listening on http://${config.host}:${config.port}`);

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: draining requests and closing the database`);
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    // Fastify stops accepting, finishes in-flight requests, then Nest closes the pool.
    await app.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}

/** A boot failure's line for the log: a ConfigError already names each bad variable. */
export function describeBootFailure(error: unknown): unknown {
  return error instanceof ConfigError ? error.message : error;
}
