import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../audit/audit-event.entity.js';

export class ListAuditQuery {
  @IsOptional()
  @IsUUID()
  user?: string;

  @IsOptional()
  @IsIn(AUDIT_EVENT_TYPES)
  type?: AuditEventType;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit = 50;
}
