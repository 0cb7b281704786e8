import Fastify from 'fastify';

/**
 * The framework's own ceiling: a bare Fastify route answering what /health/live answers, with no
 * hooks, headers, logging or metrics. `npm run bench:peers` holds the service's unguarded route
 * against it. PORT from the environment.
 */
const app = Fastify({ logger: false });
app.get('/health/live', () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
