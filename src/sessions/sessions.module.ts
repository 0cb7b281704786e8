import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { RevocationList } from './revocation-list.service.js';
import { Revocations } from './revocations.js';
import { SessionRetention } from './session-retention.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [AuditModule],
  providers: [SessionsService, SessionsRepository, RevocationList, Revocations, SessionRetention],
  exports: [SessionsService, SessionsRepository, RevocationList, Revocations, SessionRetention],
})
export class SessionsModule {}
