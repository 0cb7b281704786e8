import { PageOf } from '../common/openapi-schemas.js';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, type AuthenticatedUser } from '../common/auth/authenticated-user.js';
import { Roles } from '../common/auth/roles.decorator.js';
import { clientContext } from '../common/client-context.js';
import type { Page } from '../common/pagination.js';
import { UUID_PARAM } from '../common/uuid-param.js';
import { AdminClientsService } from './admin-clients.service.js';
import { ClientResponseDto, CreatedClientResponseDto, RotatedSecretResponseDto } from './client-response.js';
import { CreateClientDto, ListClientsQuery, RotateClientSecretDto, UpdateClientDto } from './dto/client.dto.js';

/** OAuth service clients (client credentials, introspection, revocation feed). */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/clients')
export class AdminClientsController {
  constructor(private readonly clients: AdminClientsService) {}

  /** The secret is in this response only; the service keeps its hash. */
  @ApiOperation({ summary: 'Register a service client (its secret is shown this once)' })
  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiCreatedResponse({ type: CreatedClientResponseDto })
  create(@Body() body: CreateClientDto, @CurrentUser() actor: AuthenticatedUser, @Req() request: FastifyRequest): Promise<CreatedClientResponseDto> {
    return this.clients.create(body, actor, clientContext(request));
  }

  /** Oldest first; deleted clients are not listed. */
  @ApiOperation({ summary: 'List service clients' })
  @ApiOkResponse({ type: PageOf(ClientResponseDto) })
  @Get()
  list(@Query() query: ListClientsQuery): Promise<Page<ClientResponseDto>> {
    return this.clients.list({ limit: query.limit, cursor: query.cursor });
  }

  @ApiOperation({ summary: 'Change a service client (disabling refuses its tokens at once)' })
  @Patch(':id')
  @ApiOkResponse({ type: ClientResponseDto })
  update(
    @Param('id', UUID_PARAM) id: string,
    @Body() body: UpdateClientDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<ClientResponseDto> {
    return this.clients.update(id, body, actor, clientContext(request));
  }

  @ApiOperation({ summary: 'Rotate a service client secret, the old one valid for an overlap' })
  @Post(':id/secret')
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: RotatedSecretResponseDto })
  rotateSecret(
    @Param('id', UUID_PARAM) id: string,
    @Body() body: RotateClientSecretDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<RotatedSecretResponseDto> {
    return this.clients.rotateSecret(id, body.previous_secret_ttl, actor, clientContext(request));
  }

  @ApiOperation({ summary: 'Delete a service client (its tokens are refused at once)' })
  @ApiNoContentResponse()
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Its access tokens are refused at once, on every replica' })
  async delete(@Param('id', UUID_PARAM) id: string, @CurrentUser() actor: AuthenticatedUser, @Req() request: FastifyRequest): Promise<void> {
    await this.clients.delete(id, actor, clientContext(request));
  }
}
