import { PageOf } from '../common/openapi-schemas.js';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Query } from '@nestjs/common';
import { AuditEventResponse, AuditService } from '../audit/audit.service.js';
import { Roles } from '../common/auth/roles.decorator.js';
import type { Page } from '../common/pagination.js';
import { ListAuditQuery } from './dto/list-audit.query.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Newest first. */
  @ApiOperation({ summary: 'List audit events, newest first' })
  @ApiOkResponse({ type: PageOf(AuditEventResponse) })
  @Get()
  list(@Query() query: ListAuditQuery): Promise<Page<AuditEventResponse>> {
    return this.audit.list({ userId: query.user, type: query.type, cursor: query.cursor, limit: query.limit });
  }
}
