import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig, redactDatabaseUrl, withDatabaseUrl } from './config/app-config.js';
import { createApp } from './create-app.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './database/embedded-postgres.js';
import { serveWhileStarting } from './health/starting-up-server.js';

const SHUTDOWN_DEADLINE_MS = 15_000;

async function main(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let config = loadConfig();
  const stopServingStartup = await serveWhileStarting(config.port, config.host);

  let embedded: EmbeddedPostgres | undefined;
  if (config.database.url === undefined) {
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
  }

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

main().catch((error: unknown) => {
  // A ConfigError already names each bad variable; anything else at boot is unexpected.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
