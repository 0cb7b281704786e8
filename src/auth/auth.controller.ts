import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Body, Controller, Get, Header, HttpCode, HttpStatus, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, type AuthenticatedPrincipal } from '../common/auth/authenticated-user.js';
import { Public } from '../common/auth/public.decorator.js';
import { ApiError } from '../common/errors/api-error.js';
import { clientContext } from '../common/client-context.js';
import { toUserResponse, UserResponseDto } from '../users/user-response.dto.js';
import { RateLimited } from '../throttle/ip-rate-limit.guard.js';
import { UsersService } from '../users/users.service.js';
import { EmailVerification } from '../account/email-verification.service.js';
import { MeResponseDto } from './dto/me-response.dto.js';
import { AuthService } from './auth.service.js';
import { LoginDto } from './dto/login.dto.js';
import { LoginMfaDto, MfaRequiredResponseDto } from '../mfa/mfa.dto.js';
import { RefreshTokenDto } from './dto/refresh-token.dto.js';
import { RegisterDto } from './dto/register.dto.js';
import { ServiceClientPrincipalDto } from './dto/service-client-principal.dto.js';
import { TokenResponseDto } from './dto/token-response.dto.js';
import { DeviceCookie } from './device-cookie.js';
import { RefreshCookie } from './refresh-cookie.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly refreshCookie: RefreshCookie,
    private readonly verification: EmailVerification,
  ) {}

  @Public()
  @RateLimited('register')
  @ApiOperation({ summary: 'Register a user' })
  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  @ApiCreatedResponse({ type: UserResponseDto })
  async register(@Body() body: RegisterDto): Promise<UserResponseDto> {
    // The account and its first verification mail commit together; the mail leaves right after.
    const user = await this.users.register(body.email, body.password, this.verification.onRegistered);
    this.verification.mailQueued();
    return toUserResponse(user);
  }

  @Public()
  @RateLimited('login')
  @ApiOperation({ summary: 'Log in with email and password' })
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiForbiddenResponse({ type: MfaRequiredResponseDto, description: 'mfa_required: the user has TOTP; continue with POST /auth/login/mfa' })
  async login(@Body() body: LoginDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<TokenResponseDto> {
    const { tokens, newDevice } = await this.auth.login(body.email, body.password, clientContext(request), DeviceCookie.read(request));
    if (newDevice !== undefined) DeviceCookie.set(reply, newDevice.proof, newDevice.maxAgeSeconds);
    this.refreshCookie.set(reply, tokens);
    return tokens;
  }

  @Public()
  @RateLimited('login')
  @ApiOperation({ summary: 'Second step of a login with TOTP: the mfa_token from the 403 mfa_required and a TOTP or recovery code' })
  @Post('login/mfa')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOkResponse({ type: TokenResponseDto })
  async loginMfa(
    @Body() body: LoginMfaDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponseDto> {
    const { tokens, newDevice } = await this.auth.loginWithSecondFactor(
      body.mfa_token,
      body.code,
      clientContext(request),
      DeviceCookie.read(request),
    );
    if (newDevice !== undefined) DeviceCookie.set(reply, newDevice.proof, newDevice.maxAgeSeconds);
    this.refreshCookie.set(reply, tokens);
    return tokens;
  }

  @Public()
  @RateLimited('refresh')
  @ApiOperation({ summary: 'Rotate a refresh token for a new token pair' })
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOkResponse({ type: TokenResponseDto })
  async refresh(
    @Body() body: RefreshTokenDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponseDto> {
    const tokens = await this.auth.refresh(this.presentedRefreshToken(body, request), clientContext(request));
    this.refreshCookie.set(reply, tokens);
    return tokens;
  }

  @Public()
  @ApiOperation({ summary: 'Log out: revoke the session of the refresh token' })
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse()
  async logout(@Body() body: RefreshTokenDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.auth.logout(this.presentedRefreshToken(body, request), clientContext(request));
    this.refreshCookie.clear(reply);
  }

  /**
   * Answered from the verified token alone (no database on this path), except `email_verified` when
   * the token says false: see EmailVerification.isVerified. A service client's token describes the client.
   */
  @ApiOperation({ summary: 'Who the access token speaks for' })
  @Get('me')
  @ApiBearerAuth()
  @ApiExtraModels(MeResponseDto, ServiceClientPrincipalDto)
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(MeResponseDto) }, { $ref: getSchemaPath(ServiceClientPrincipalDto) }] } })
  async me(@CurrentPrincipal() principal: AuthenticatedPrincipal): Promise<MeResponseDto | ServiceClientPrincipalDto> {
    if (principal.kind === 'client') {
      return { id: principal.id, client_id: principal.id, roles: [...principal.roles], scope: principal.scopes.join(' ') };
    }
    return { ...toUserResponse(principal), email_verified: await this.verification.isVerified(principal.id, principal.emailVerified) };
  }

  private presentedRefreshToken(body: RefreshTokenDto, request: FastifyRequest): string {
    const token = this.refreshCookie.read(request, body.refresh_token);
    if (token === undefined) throw ApiError.invalidRequest('refresh_token is required');
    return token;
  }
}
