import { PageOf } from '../common/openapi-schemas.js';
import { ListOf } from '../common/openapi-schemas.js';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, type AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { Roles } from '../common/auth/roles.decorator.js';
import { clientContext } from '../common/client-context.js';
import { ApiError } from '../common/errors/api-error.js';
import type { Page } from '../common/pagination.js';
import { UUID_PARAM } from '../common/uuid-param.js';
import { SessionsRepository } from '../sessions/sessions.repository.js';
import { AdminUserResponseDto } from '../users/admin-user-response.dto.js';
import { UsersService } from '../users/users.service.js';
import { ListUsersQuery } from './dto/list-users.query.js';
import { UpdateUserDto } from './dto/update-user.dto.js';
import { AdminUsersService } from './admin-users.service.js';
import { SessionResponse, toSessionResponse } from './session-response.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly admin: AdminUsersService,
    private readonly sessions: SessionsRepository,
  ) {}

  @ApiOperation({ summary: 'List users in email order' })
  @ApiOkResponse({ type: PageOf(AdminUserResponseDto) })
  @Get()
  list(@Query() query: ListUsersQuery): Promise<Page<AdminUserResponseDto>> {
    return this.users.list({ limit: query.limit, cursor: query.cursor, emailPrefix: query.email });
  }

  @ApiOperation({ summary: 'Change the roles of a user, or disable them' })
  @Patch(':id')
  @ApiOkResponse({ type: AdminUserResponseDto })
  update(
    @Param('id', UUID_PARAM) id: string,
    @Body() body: UpdateUserDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<AdminUserResponseDto> {
    return this.admin.update(id, body, actor, clientContext(request));
  }

  @ApiOperation({ summary: 'List the sessions of a user' })
  @ApiOkResponse({ type: ListOf(SessionResponse) })
  @Get(':id/sessions')
  async sessionsOf(@Param('id', UUID_PARAM) id: string): Promise<{ items: SessionResponse[] }> {
    if (!(await this.users.exists(id))) throw ApiError.notFound('No such user');
    return { items: (await this.sessions.listForUser(id)).map(toSessionResponse) };
  }

  @ApiOperation({ summary: 'Revoke every session of a user' })
  @ApiNoContentResponse()
  @Delete(':id/sessions')
  @HttpCode(HttpStatus.NO_CONTENT)
  async revokeSessionsOf(
    @Param('id', UUID_PARAM) id: string,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.admin.revokeSessionsOf(id, actor, clientContext(request));
  }

  @ApiOperation({ summary: "Reset a user's second factor: TOTP and recovery codes removed, sessions revoked (audited)" })
  @ApiNoContentResponse()
  @Delete(':id/mfa')
  @HttpCode(HttpStatus.NO_CONTENT)
  async resetMfa(@Param('id', UUID_PARAM) id: string, @CurrentUser() actor: AuthenticatedUser, @Req() request: FastifyRequest): Promise<void> {
    await this.admin.resetMfa(id, actor, clientContext(request));
  }

  @ApiOperation({ summary: 'Clear the login throttling of an account (audited)' })
  @ApiNoContentResponse()
  @Delete(':id/login-throttle')
  @HttpCode(HttpStatus.NO_CONTENT)
  async clearLoginThrottle(
    @Param('id', UUID_PARAM) id: string,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.admin.clearLoginThrottle(id, actor, clientContext(request));
  }
}
