import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { KeysModule } from '../keys/keys.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ThrottleModule } from '../throttle/throttle.module.js';
import { MfaChallengeRetention } from './mfa-challenge-retention.js';
import { MfaController } from './mfa.controller.js';
import { MfaService } from './mfa.service.js';

/** The second factor (issue 19): TOTP with recovery codes. Login's second step is auth's; the admin reset is admin's. */
@Module({
  imports: [KeysModule, SessionsModule, ThrottleModule, AuditModule],
  controllers: [MfaController],
  providers: [MfaService, MfaChallengeRetention],
  exports: [MfaService, MfaChallengeRetention],
})
export class MfaModule {}
