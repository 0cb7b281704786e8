import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { APP_GUARD } from '@nestjs/core';
import { AccountModule } from '../account/account.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { ClientsModule } from '../clients/clients.module.js';
import { KeysModule } from '../keys/keys.module.js';
import { KeysService } from '../keys/keys.service.js';
import { MfaModule } from '../mfa/mfa.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { IpRateLimitGuard } from '../throttle/ip-rate-limit.guard.js';
import { ThrottleModule } from '../throttle/throttle.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccessTokenGuard } from './access-token.guard.js';
import { jwtModuleOptions } from './access-token-keys.js';
import { AccessTokenService } from './access-token.service.js';
import { AccessTokenStrategy } from './access-token.strategy.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { RefreshCookie } from './refresh-cookie.js';
import { RevocationFeedController } from './revocation-feed.controller.js';
import { IntrospectionCallerGuard } from './introspection-caller.guard.js';
import { IntrospectionService } from './introspection.service.js';
import { RolesGuard } from './roles.guard.js';
import { OAuthTokenController } from './oauth-token.controller.js';
import { OAuthTokenService } from './oauth-token.service.js';
import { TokenManagementController } from './token-management.controller.js';
import { TokenRevocationService } from './token-revocation.service.js';

@Module({
  imports: [
    UsersModule,
    SessionsModule,
    KeysModule,
    AuditModule,
    ThrottleModule,
    ClientsModule,
    AccountModule,
    MfaModule,
    PassportModule,
    JwtModule.registerAsync({ imports: [KeysModule], inject: [KeysService], useFactory: jwtModuleOptions }),
  ],
  controllers: [AuthController, TokenManagementController, RevocationFeedController, OAuthTokenController],
  providers: [
    AuthService,
    AccessTokenService,
    AccessTokenStrategy,
    RefreshCookie,
    IntrospectionService,
    IntrospectionCallerGuard,
    TokenRevocationService,
    OAuthTokenService,
    // Global guards, in this order: how often the caller may ask, who the caller is, what they may do.
    { provide: APP_GUARD, useClass: IpRateLimitGuard },
    { provide: APP_GUARD, useClass: AccessTokenGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [AccessTokenService],
})
export class AuthModule {}
