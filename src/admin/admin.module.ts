import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { UsersModule } from '../users/users.module.js';
import { AdminSessionsController } from './admin-sessions.controller.js';
import { AdminUsersController } from './admin-users.controller.js';
import { AuditController } from './audit.controller.js';

/** Admin routes only: the logic they reach lives in the users, sessions and audit services. */
@Module({
  imports: [UsersModule, SessionsModule, AuditModule],
  controllers: [AdminUsersController, AdminSessionsController, AuditController],
})
export class AdminModule {}
