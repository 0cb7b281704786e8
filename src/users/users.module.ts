import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AdminBootstrap } from './admin-bootstrap.service.js';
import { PasswordHasher } from './password-hasher.service.js';
import { User } from './user.entity.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User]), SessionsModule, AuditModule],
  providers: [UsersService, PasswordHasher, AdminBootstrap],
  exports: [UsersService, PasswordHasher],
})
export class UsersModule {}
