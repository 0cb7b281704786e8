import { createServer } from 'node:http';

const NOT_READY = JSON.stringify({ statusCode: 503, error: 'service_unavailable', message: 'Starting: migrations and signing keys are loading' });

/**
 * Holds the port while the database starts, migrations run and keys load: /health/live answers
 * 200, everything else 503, so probes and clients see "alive, not ready" rather than a refused
 * connection. Closed just before the application takes the port over.
 */
export async function serveWhileStarting(port: number, host: string): Promise<() => Promise<void>> {
  const server = createServer((request, response) => {
    const live = request.url === '/health/live';
    response.writeHead(live ? 200 : 503, { 'content-type': 'application/json', connection: 'close' });
    response.end(live ? '{"status":"ok"}' : NOT_READY);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return () => new Promise((resolve) => server.close(() => resolve()).closeAllConnections());
}
