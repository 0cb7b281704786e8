import { Controller, Get, Headers, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth/public.decorator.js';
import { KeysService } from './keys.service.js';

// Kept short until rotation derives it from the publication schedule.
const JWKS_MAX_AGE_SECONDS = 300;

@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: KeysService) {}

  /** The prepared body and ETag are sent as they are: no serialisation or hashing per request. */
  @Public()
  @Get('jwks.json')
  jwks(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    const { body, etag } = this.keys.publishedJwks();
    void reply
      .header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
      .header('etag', etag);
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === etag)) {
      void reply.status(304).send();
      return;
    }
    void reply.header('content-type', 'application/jwk-set+json').send(body);
  }
}
