import { ApiBasicAuth, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Header, HttpCode, HttpStatus, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Public } from '../common/auth/public.decorator.js';
import { clientContext } from '../common/client-context.js';
import { RateLimited } from '../throttle/ip-rate-limit.guard.js';
import { AuthService } from './auth.service.js';
import { TokenDto } from './dto/token.dto.js';
import { IntrospectionCallerGuard } from './introspection-caller.guard.js';
import { IntrospectionService, type IntrospectionResponse } from './introspection.service.js';

/** RFC 7662 introspection and RFC 7009 revocation, for services and clients. */
@ApiTags('auth')
@Controller('auth')
export class TokenManagementController {
  constructor(
    private readonly introspection: IntrospectionService,
    private readonly auth: AuthService,
  ) {}

  // Public to the access-token guard: the caller authenticates as a service, checked here.
  @Public()
  @RateLimited('introspect')
  @UseGuards(IntrospectionCallerGuard)
  @Post('introspect')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiBasicAuth()
  @ApiBearerAuth()
  @ApiOkResponse({ description: 'RFC 7662: {active: true, ...claims} or {active: false}' })
  introspect(@Body() body: TokenDto): Promise<IntrospectionResponse> {
    return this.introspection.introspect(body.token);
  }

  /** A refresh or access token ends its session; 200 whether or not it was known (RFC 7009 §2.2), so it reveals nothing. */
  @Public()
  @Post('revoke')
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ description: 'RFC 7009: always 200' })
  async revoke(@Body() body: TokenDto, @Req() request: FastifyRequest): Promise<void> {
    await this.auth.revoke(body.token, clientContext(request));
  }
}
