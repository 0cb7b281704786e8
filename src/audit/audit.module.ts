import { Module } from '@nestjs/common';
import { AuditRetention } from './audit-retention.js';
import { AuditService } from './audit.service.js';

@Module({
  providers: [AuditService, AuditRetention],
  exports: [AuditService, AuditRetention],
})
export class AuditModule {}
