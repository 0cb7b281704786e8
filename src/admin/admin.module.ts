import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { ClientsModule } from '../clients/clients.module.js';
import { MfaModule } from '../mfa/mfa.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ThrottleModule } from '../throttle/throttle.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminActor } from './admin-actor.js';
import { AdminClientsController } from './admin-clients.controller.js';
import { AdminClientsService } from './admin-clients.service.js';
import { AdminSessionsController } from './admin-sessions.controller.js';
import { AdminUsersController } from './admin-users.controller.js';
import { AdminUsersService } from './admin-users.service.js';
import { AuditController } from './audit.controller.js';

/** Admin routes, and the admin decisions that span users, sessions and service clients. */
@Module({
  imports: [UsersModule, SessionsModule, AuditModule, ThrottleModule, ClientsModule, MfaModule],
  controllers: [AdminUsersController, AdminSessionsController, AuditController, AdminClientsController],
  providers: [AdminUsersService, AdminClientsService, AdminActor],
})
export class AdminModule {}
