import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth/public.decorator.js';
import { sendPreparedDocument } from '../common/prepared-document.js';
import { RevocationList } from './revocation-list.service.js';

// Verifiers poll every few seconds; a shared cache may hold the answer about as long.
const FEED_MAX_AGE_SECONDS = 2;

/**
 * For services that verify tokens themselves (packages/verifier): which sessions are revoked and,
 * per user, the oldest token generation (`gen` claim) that still counts, for as long as any
 * affected token can still be valid.
 * Served from this replica's in-memory list, so a poll costs no database query.
 */
@ApiTags('keys')
@Public()
@Controller('.well-known')
export class RevocationFeedController {
  constructor(private readonly revocations: RevocationList) {}

  @Get('revocations')
  @ApiOkResponse({ description: '{version, sessions: [sid], generations: {sub: oldest_valid_gen}}; 304 on If-None-Match' })
  feed(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    sendPreparedDocument(reply, ifNoneMatch, this.revocations.publishedFeed(), {
      maxAgeSeconds: FEED_MAX_AGE_SECONDS,
      contentType: 'application/json',
    });
  }
}
