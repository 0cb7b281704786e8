import { Module } from '@nestjs/common';
import { RevocationList } from './revocation-list.service.js';
import { SessionsService } from './sessions.service.js';

@Module({
  providers: [SessionsService, RevocationList],
  exports: [SessionsService, RevocationList],
})
export class SessionsModule {}
