import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MetricsService } from './metrics.service.js';

/** Times every request by its route template (not its URL, which would explode the label set). */
export function observeHttpRequests(app: NestFastifyApplication): void {
  const { httpRequestDuration } = app.get(MetricsService);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      void reply.header('x-request-id', request.id);
      done();
    })
    .addHook('onResponse', (request, reply, done) => {
      httpRequestDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
    });
}
