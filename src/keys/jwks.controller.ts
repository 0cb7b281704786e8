import { JwksDto } from './dto/key-responses.dto.js';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Headers, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth/public.decorator.js';
import { sendPreparedDocument } from '../common/prepared-document.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { KeysService } from './keys.service.js';

@ApiTags('keys')
@Public()
@Controller('.well-known')
export class JwksController {
  constructor(
    private readonly keys: KeysService,
    private readonly metrics: MetricsService,
  ) {}

  /** The prepared body and ETag are sent as they are: no serialisation or hashing per request. */
  @ApiOperation({ summary: 'The JWK set of the signing keys' })
  @Get('jwks.json')
  @ApiOkResponse({ type: JwksDto, description: 'RFC 7517 JWK set: public RS256 keys (next, active, retired); 304 on If-None-Match' })
  jwks(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    const status = sendPreparedDocument(reply, ifNoneMatch, this.keys.publishedJwks(), {
      maxAgeSeconds: this.keys.jwksMaxAgeSeconds(),
      contentType: 'application/jwk-set+json',
    });
    this.metrics.jwksRequests.inc({ status_code: String(status) });
  }
}
