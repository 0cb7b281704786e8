import { ApiAcceptedResponse, ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { clientContext } from '../common/client-context.js';
import { UUID_PARAM } from '../common/uuid-param.js';
import { RateLimited } from '../throttle/ip-rate-limit.guard.js';
import { AccountService } from './account.service.js';
import { CurrentAccount } from './current-account.js';
import { ChangePasswordDto, DeleteAccountDto, OwnSessionsResponseDto } from './dto/account.dto.js';
import { EmailVerification } from './email-verification.service.js';

/** Self-service for a signed-in user (Bearer): password, sessions, the account itself, the verification mail. */
@ApiTags('account')
@ApiBearerAuth()
@Controller('auth')
export class AccountController {
  constructor(
    private readonly account: AccountService,
    private readonly verification: EmailVerification,
  ) {}

  /** Every other session of the user ends; the calling session goes on. */
  @RateLimited('account')
  @ApiOperation({ summary: 'Change the password (other sessions end)' })
  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Password replaced; every other session revoked' })
  async changePassword(@Body() body: ChangePasswordDto, @CurrentAccount() caller: AuthenticatedUser, @Req() request: FastifyRequest): Promise<void> {
    await this.account.changePassword(caller, body.current_password, body.new_password, clientContext(request));
  }

  @ApiOperation({ summary: "List the caller's live sessions" })
  @Get('sessions')
  @ApiOkResponse({ type: OwnSessionsResponseDto })
  async sessions(@CurrentAccount() caller: AuthenticatedUser): Promise<OwnSessionsResponseDto> {
    const sessions = await this.account.liveSessions(caller);
    return {
      items: sessions.map((session) => ({
        id: session.id,
        created_at: session.createdAt,
        last_used_at: session.lastUsedAt,
        expires_at: session.expiresAt,
        ip: session.ip,
        user_agent: session.userAgent,
        current: session.id === caller.sessionId,
      })),
    };
  }

  /** 404 for a session that is not the caller's, whether or not it exists. */
  @ApiOperation({ summary: "End one of the caller's sessions" })
  @Delete('sessions/:sid')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse()
  async revokeSession(
    @Param('sid', UUID_PARAM) sid: string,
    @CurrentAccount() caller: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.account.revokeSession(caller, sid, clientContext(request));
  }

  @RateLimited('account')
  @ApiOperation({ summary: "Delete the caller's account" })
  @Delete('me')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Account deleted, its sessions revoked; its audit events stay, without the email' })
  async deleteAccount(@Body() body: DeleteAccountDto, @CurrentAccount() caller: AuthenticatedUser, @Req() request: FastifyRequest): Promise<void> {
    await this.account.deleteAccount(caller, body.password, clientContext(request));
  }

  @ApiOperation({ summary: 'Mail a new verification link' })
  @Post('email/verify/resend')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({ description: 'A new verification mail is on its way (nothing is sent for an address already verified)' })
  async resendVerification(@CurrentAccount() caller: AuthenticatedUser, @Req() request: FastifyRequest): Promise<void> {
    await this.verification.resend(caller, clientContext(request));
  }
}
