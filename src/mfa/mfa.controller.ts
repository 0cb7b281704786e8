import { Body, Controller, Delete, Header, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentAccount } from '../account/current-account.js';
import type { AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { clientContext } from '../common/client-context.js';
import { MfaCodeDto, RecoveryCodesResponseDto, TotpEnrollmentResponseDto } from './mfa.dto.js';
import { MfaService } from './mfa.service.js';

/** The caller's own second factor (issue 19). */
@ApiTags('mfa')
@ApiBearerAuth()
@Controller('auth/mfa/totp')
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @ApiOperation({ summary: 'Start TOTP enrollment: a new secret, active once confirmed with a code' })
  @Post()
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: TotpEnrollmentResponseDto })
  async enroll(@CurrentAccount() user: AuthenticatedUser, @Req() request: FastifyRequest): Promise<TotpEnrollmentResponseDto> {
    const { secret, otpauthUri } = await this.mfa.startEnrollment(user, clientContext(request));
    return { secret, otpauth_uri: otpauthUri };
  }

  @ApiOperation({ summary: 'Confirm TOTP with a first code: recovery codes, shown once; other sessions end' })
  @Post('confirm')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: RecoveryCodesResponseDto })
  async confirm(
    @CurrentAccount() user: AuthenticatedUser,
    @Body() body: MfaCodeDto,
    @Req() request: FastifyRequest,
  ): Promise<RecoveryCodesResponseDto> {
    return { recovery_codes: await this.mfa.confirmEnrollment(user, body.code, clientContext(request)) };
  }

  @ApiOperation({ summary: 'Remove TOTP with a current TOTP or recovery code; other sessions end' })
  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse()
  async remove(@CurrentAccount() user: AuthenticatedUser, @Body() body: MfaCodeDto, @Req() request: FastifyRequest): Promise<void> {
    await this.mfa.remove(user, body.code, clientContext(request));
  }
}
