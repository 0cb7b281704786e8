import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { KeysModule } from '../keys/keys.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccessTokenGuard } from './access-token.guard.js';
import { AccessTokenService } from './access-token.service.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { RefreshCookie } from './refresh-cookie.js';
import { RolesGuard } from './roles.guard.js';

@Module({
  imports: [UsersModule, SessionsModule, KeysModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    AccessTokenService,
    RefreshCookie,
    // Global guards, in this order: who the caller is, then what they may do.
    { provide: APP_GUARD, useClass: AccessTokenGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [AccessTokenService],
})
export class AuthModule {}
