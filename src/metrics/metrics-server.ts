import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MetricsService } from './metrics.service.js';

/**
 * GET /metrics on its own listener (METRICS_PORT), never on the API port: login outcomes, reuse
 * detections and key ages tell an attacker watching from outside how an attack goes. Expose this
 * port to the scraper only.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server: Server | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
        return;
      }
      this.metrics.registry.metrics().then(
        (body) => response.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body),
        () => response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics unavailable'),
      );
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.config.metricsPort, this.config.host, resolve));
    this.server = server;
    this.logger.log(`Metrics on http://${this.config.host}:${this.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    await new Promise((closed) => server.close(closed).closeAllConnections());
  }

  /** The port it listens on (the chosen one when METRICS_PORT is 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.config.metricsPort;
  }
}
