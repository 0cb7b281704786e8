import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { RevocationFeedController } from './revocation-feed.controller.js';
import { RevocationList } from './revocation-list.service.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [AuditModule],
  controllers: [RevocationFeedController],
  providers: [SessionsService, RevocationList],
  exports: [SessionsService, RevocationList],
})
export class SessionsModule {}
