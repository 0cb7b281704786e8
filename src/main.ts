import 'reflect-metadata';
import { DEFAULT_HOST, DEFAULT_PORT } from './config/listen-address.js';
import { serveWhileStarting } from './health/starting-up-server.js';

/**
 * Holds the port before anything heavy loads (Nest, TypeORM, class-validator take a second or
 * more), so probes see "alive, not ready" from the first moment rather than a refused connection.
 * PORT and HOST are only peeked at here; the configuration proper is validated by bootstrap().
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT || DEFAULT_PORT);
  const host = process.env.HOST || DEFAULT_HOST;
  const stopServingStartup = Number.isInteger(port) ? await serveWhileStarting(port, host).catch(() => async () => undefined) : async () => undefined;
  const { bootstrap, describeBootFailure } = await import('./bootstrap.js');
  await bootstrap(stopServingStartup).catch((error: unknown) => {
    console.error(describeBootFailure(error));
    process.exit(1);
  });
}

void main();
