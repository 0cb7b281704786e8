import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Delete, HttpCode, HttpStatus, Param, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, type AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { Roles } from '../common/auth/roles.decorator.js';
import { clientContext } from '../common/client-context.js';
import { UUID_PARAM } from '../common/uuid-param.js';
import { AdminUsersService } from './admin-users.service.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/sessions')
export class AdminSessionsController {
  constructor(private readonly admin: AdminUsersService) {}

  /** Its refresh token stops at once, its access tokens on every replica within a second. */
  @ApiOperation({ summary: 'Revoke a session (its refresh and access tokens)' })
  @ApiNoContentResponse()
  @Delete(':sid')
  @HttpCode(HttpStatus.NO_CONTENT)
  async revoke(@Param('sid', UUID_PARAM) sid: string, @CurrentUser() actor: AuthenticatedUser, @Req() request: FastifyRequest): Promise<void> {
    await this.admin.revokeSession(sid, actor, clientContext(request));
  }
}
