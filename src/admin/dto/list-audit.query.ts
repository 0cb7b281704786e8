import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../audit/audit-event.entity.js';
import { PageQuery } from './page.query.js';

export class ListAuditQuery extends PageQuery {
  @IsOptional()
  @IsUUID()
  user?: string;

  @IsOptional()
  @IsIn(AUDIT_EVENT_TYPES)
  type?: AuditEventType;
}
