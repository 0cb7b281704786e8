import { IntrospectionResponseDto } from './dto/introspection-response.dto.js';
import { ApiBasicAuth, ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Body, Controller, Header, HttpCode, HttpStatus, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ClientAuthenticator } from '../clients/client-authenticator.js';
import { Public } from '../common/auth/public.decorator.js';
import { clientContext } from '../common/client-context.js';
import { RateLimited } from '../throttle/ip-rate-limit.guard.js';
import { TokenDto } from './dto/token.dto.js';
import { OAuthErrorDto } from './dto/oauth-error.dto.js';
import { IntrospectionCallerGuard } from './introspection-caller.guard.js';
import { IntrospectionService, type IntrospectionResponse } from './introspection.service.js';
import { TokenRevocationService } from './token-revocation.service.js';

const FORM_AND_JSON = ['application/x-www-form-urlencoded', 'application/json'];

/** RFC 7662 introspection and RFC 7009 revocation, for services and clients. */
@ApiTags('auth')
@Controller('auth')
export class TokenManagementController {
  constructor(
    private readonly introspection: IntrospectionService,
    private readonly revocation: TokenRevocationService,
    private readonly clients: ClientAuthenticator,
  ) {}

  // Public to the access-token guard: the caller authenticates as a service, checked here.
  @Public()
  @RateLimited('introspect')
  @UseGuards(IntrospectionCallerGuard)
  @ApiOperation({ summary: 'Introspect a token (RFC 7662)' })
  @Post('introspect')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiBasicAuth()
  @ApiBearerAuth()
  @ApiConsumes(...FORM_AND_JSON)
  @ApiBody({ type: TokenDto })
  @ApiOkResponse({ type: IntrospectionResponseDto, description: 'RFC 7662: {active: true, ...claims} or {active: false}' })
  @ApiUnauthorizedResponse({ type: OAuthErrorDto, description: 'invalid_client (RFC 6749 §5.2)' })
  introspect(@Body() body: TokenDto): Promise<IntrospectionResponse> {
    return this.introspection.introspect(body.token);
  }

  /**
   * A refresh or access token ends its session (a service client's token: that token); 200 whether
   * or not it was known (RFC 7009 §2.2), so it reveals nothing. Client authentication is optional;
   * when given it must hold, and then only the client's own tokens are revoked.
   */
  @Public()
  @ApiOperation({ summary: 'Revoke a token and its session (RFC 7009)' })
  @Post('revoke')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiBasicAuth()
  @ApiConsumes(...FORM_AND_JSON)
  @ApiBody({ type: TokenDto })
  @ApiOkResponse({ description: 'RFC 7009: always 200' })
  @ApiUnauthorizedResponse({ type: OAuthErrorDto, description: 'invalid_client (RFC 6749 §5.2): client authentication was given and failed' })
  async revoke(@Body() body: TokenDto, @Req() request: FastifyRequest): Promise<void> {
    const caller = await this.clients.authenticate(request, body, '/auth/revoke');
    await this.revocation.revoke(body.token, caller, clientContext(request));
  }
}
