import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Body, Controller, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Public } from '../common/auth/public.decorator.js';
import { clientContext } from '../common/client-context.js';
import { RateLimited } from '../throttle/ip-rate-limit.guard.js';
import { ForgotPasswordDto, ResetPasswordDto, VerifyEmailDto } from './dto/account.dto.js';
import { EmailVerification } from './email-verification.service.js';
import { PasswordRecovery } from './password-recovery.service.js';

/** Recovery and verification by mail: no access token, the mailed token is the proof. */
@ApiTags('account')
@Public()
@Controller('auth')
export class RecoveryController {
  constructor(
    private readonly recovery: PasswordRecovery,
    private readonly verification: EmailVerification,
  ) {}

  /** The same 202 and body for every address: whether it has an account is not told. */
  @RateLimited('password_forgot')
  @ApiOperation({ summary: 'Mail a password reset link' })
  @Post('password/forgot')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({ description: 'If the address has an account, a reset mail is on its way' })
  async forgot(@Body() body: ForgotPasswordDto, @Req() request: FastifyRequest): Promise<void> {
    await this.recovery.forgot(body.email, clientContext(request));
  }

  @RateLimited('password_reset')
  @ApiOperation({ summary: 'Set a new password with a mailed token' })
  @Post('password/reset')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Password replaced; every session revoked' })
  async reset(@Body() body: ResetPasswordDto, @Req() request: FastifyRequest): Promise<void> {
    await this.recovery.reset(body.token, body.new_password, clientContext(request));
  }

  @RateLimited('email_verify')
  @ApiOperation({ summary: 'Verify the email address with a mailed token' })
  @Post('email/verify')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'The address is verified' })
  async verify(@Body() body: VerifyEmailDto, @Req() request: FastifyRequest): Promise<void> {
    await this.verification.verify(body.token, clientContext(request));
  }
}
