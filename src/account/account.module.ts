import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { MailModule } from '../mail/mail.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ThrottleModule } from '../throttle/throttle.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccountController } from './account.controller.js';
import { AccountRepository } from './account.repository.js';
import { AccountService } from './account.service.js';
import { EmailVerification } from './email-verification.service.js';
import { MailTokenRetention } from './mail-token-retention.js';
import { MailTokensRepository } from './mail-tokens.repository.js';
import { PasswordRecovery } from './password-recovery.service.js';
import { RecoveryController } from './recovery.controller.js';

/** Account self-service and recovery (issue 18): password change, own sessions, deletion, reset and verification by mail. */
@Module({
  imports: [UsersModule, SessionsModule, ThrottleModule, AuditModule, MailModule],
  controllers: [AccountController, RecoveryController],
  providers: [AccountService, AccountRepository, MailTokensRepository, EmailVerification, PasswordRecovery, MailTokenRetention],
  exports: [EmailVerification],
})
export class AccountModule {}
