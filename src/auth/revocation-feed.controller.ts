import { RevocationFeedDto } from './dto/revocation-feed.dto.js';
import { Controller, Get, Headers, Res, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth/public.decorator.js';
import { sendPreparedDocument } from '../common/prepared-document.js';
import { RevocationList } from '../sessions/revocation-list.service.js';
import { IntrospectionCallerGuard } from './introspection-caller.guard.js';

// Verifiers poll every few seconds; a shared cache may hold the answer about as long.
const FEED_MAX_AGE_SECONDS = 2;

/**
 * For services that verify tokens themselves (packages/verifier): which sessions are revoked and,
 * per user, the oldest token generation (`gen` claim) that still counts, for as long as any
 * affected token can still be valid.
 * Served from this replica's in-memory list, so a poll costs no database query. Only to service
 * callers (the introspection credentials) or admins: it names users and when admins acted on them.
 */
@ApiTags('keys')
// Public to the access-token guard: the caller authenticates as a service, checked by IntrospectionCallerGuard.
@Public()
@UseGuards(IntrospectionCallerGuard)
@ApiBasicAuth()
@Controller('.well-known')
export class RevocationFeedController {
  constructor(private readonly revocations: RevocationList) {}

  @ApiOperation({ summary: 'The revocation feed for services that verify tokens themselves' })
  @Get('revocations')
  @ApiOkResponse({ type: RevocationFeedDto, description: '304 on If-None-Match' })
  feed(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    sendPreparedDocument(reply, ifNoneMatch, this.revocations.publishedFeed(), {
      maxAgeSeconds: FEED_MAX_AGE_SECONDS,
      contentType: 'application/json',
    });
  }
}
