import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ThrottleModule } from '../throttle/throttle.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminSessionsController } from './admin-sessions.controller.js';
import { AdminUsersController } from './admin-users.controller.js';
import { AdminUsersService } from './admin-users.service.js';
import { AuditController } from './audit.controller.js';

/** Admin routes, and the admin decisions that span users and sessions. */
@Module({
  imports: [UsersModule, SessionsModule, AuditModule, ThrottleModule],
  controllers: [AdminUsersController, AdminSessionsController, AuditController],
  providers: [AdminUsersService],
})
export class AdminModule {}
