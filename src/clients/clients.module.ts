import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { ThrottleModule } from '../throttle/throttle.module.js';
import { ClientAuthenticator } from './client-authenticator.js';
import { ClientRetention } from './client-retention.js';
import { ClientsBootstrap } from './clients-bootstrap.js';
import { ClientsRepository } from './clients.repository.js';

/** OAuth service clients: their storage, their authentication, and the INTROSPECTION_CLIENTS bootstrap. */
@Module({
  imports: [AuditModule, ThrottleModule],
  providers: [ClientsRepository, ClientAuthenticator, ClientsBootstrap, ClientRetention],
  exports: [ClientsRepository, ClientAuthenticator],
})
export class ClientsModule {}
