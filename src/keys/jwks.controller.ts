import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Headers, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth/public.decorator.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { KeysService } from './keys.service.js';

/** True when an If-None-Match header lists this ETag (or is "*"). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  return ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*');
}

@ApiTags('keys')
@Public()
@Controller('.well-known')
export class JwksController {
  constructor(
    private readonly keys: KeysService,
    private readonly metrics: MetricsService,
  ) {}

  /** The prepared body and ETag are sent as they are: no serialisation or hashing per request. */
  @Get('jwks.json')
  @ApiOkResponse({ description: 'RFC 7517 JWK set: public RS256 keys (next, active, retired); 304 on If-None-Match' })
  jwks(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    const { body, etag } = this.keys.publishedJwks();
    void reply.header('cache-control', `public, max-age=${this.keys.jwksMaxAgeSeconds()}`).header('etag', etag);
    if (matchesEtag(ifNoneMatch, etag)) {
      this.metrics.jwksRequests.inc({ status_code: '304' });
      void reply.status(304).send();
      return;
    }
    this.metrics.jwksRequests.inc({ status_code: '200' });
    void reply.header('content-type', 'application/jwk-set+json').send(body);
  }
}
