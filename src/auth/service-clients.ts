import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * The services allowed to introspect (INTROSPECTION_CLIENTS). Only SHA-256 digests of their
 * secrets are configured: secrets are long random strings, so a fast hash is enough, and the
 * comparison is constant-time, with the same work for an unknown client id.
 */
@Injectable()
export class ServiceClients {
  private readonly unknownClientDigest = sha256('no such client');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  verify(clientId: string, secret: string): boolean {
    const expected = this.config.introspectionClients.get(clientId);
    const matches = timingSafeEqual(sha256(secret), expected ?? this.unknownClientDigest);
    return expected !== undefined && matches;
  }
}
