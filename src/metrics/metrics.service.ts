import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus series, in one registry per app instance (tests run several in one
 * process). Gauges that mirror state elsewhere are read at scrape time through `observe*`.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'auth_logins_total',
    help: 'Login attempts that reached a password check, by outcome (success, failure); refused ones count in auth_rate_limited_total',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  readonly refreshes = new Counter({
    name: 'auth_refreshes_total',
    help: 'Refresh requests by outcome (rotated, grace_retry, reuse_detected, refused)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  readonly revocations = new Counter({
    name: 'auth_revocations_total',
    help: 'Sessions and user-wide token sets revoked by this instance, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  readonly keyRotations = new Counter({
    name: 'auth_key_rotations_total',
    help: 'Signing keys published by this instance (on demand or by schedule)',
    registers: [this.registry],
  });

  readonly jwksRequests = new Counter({
    name: 'auth_jwks_requests_total',
    help: 'JWKS requests by answer (200 or 304)',
    labelNames: ['status_code'],
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'auth_rate_limited_total',
    help: 'Requests refused with 429, by throttle (ip:<route> or login_account)',
    labelNames: ['throttle'],
    registers: [this.registry],
  });

  readonly revocationListenerLost = new Counter({
    name: 'auth_revocation_listener_lost_total',
    help: 'LISTEN connections for revocations given up, by cause (connection: error or closed; heartbeat: no echo in time)',
    labelNames: ['cause'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge whose value is read from `read` at every scrape. */
  observeGauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}
