import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { Body, Controller, Header, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ClientAuthenticator } from '../clients/client-authenticator.js';
import { Public } from '../common/auth/public.decorator.js';
import { clientContext } from '../common/client-context.js';
import { RateLimited } from '../throttle/ip-rate-limit.guard.js';
import { ClientTokenResponseDto } from './dto/client-token-response.dto.js';
import { OAuthErrorDto } from './dto/oauth-error.dto.js';
import { parseTokenRequest, TokenRequestDto } from './dto/token-request.dto.js';
import { TokenResponseDto } from './dto/token-response.dto.js';
import { OAuthTokenService } from './oauth-token.service.js';

/** RFC 6749 §3.2: the token endpoint for standard OAuth clients. */
@ApiTags('oauth')
@Controller('oauth')
export class OAuthTokenController {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly tokens: OAuthTokenService,
  ) {}

  // Public to the access-token guard: clients authenticate with their own credentials, checked here.
  @Public()
  @RateLimited('token')
  @ApiOperation({ summary: 'OAuth 2.0 token endpoint: refresh_token and client_credentials grants' })
  @Post('token')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiBasicAuth()
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({ type: TokenRequestDto })
  @ApiExtraModels(TokenResponseDto, ClientTokenResponseDto)
  @ApiOkResponse({
    description: 'refresh_token: a new token pair (the presented refresh token is spent); client_credentials: an access token only',
    schema: { oneOf: [{ $ref: getSchemaPath(TokenResponseDto) }, { $ref: getSchemaPath(ClientTokenResponseDto) }] },
  })
  @ApiBadRequestResponse({
    type: OAuthErrorDto,
    description: 'invalid_request, invalid_grant, unsupported_grant_type, invalid_scope, unauthorized_client',
  })
  @ApiUnauthorizedResponse({ type: OAuthErrorDto, description: 'invalid_client (WWW-Authenticate: Basic when Basic was used)' })
  async token(@Body() body: Record<string, unknown>, @Req() request: FastifyRequest): Promise<TokenResponseDto | ClientTokenResponseDto> {
    const parameters = parseTokenRequest(body);
    const caller = await this.clients.authenticate(request, parameters, '/oauth/token');
    return this.tokens.token(parameters, caller, clientContext(request));
  }
}
