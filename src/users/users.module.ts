import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { AdminBootstrap } from './admin-bootstrap.service.js';
import { PasswordHasher } from './password-hasher.service.js';
import { User } from './user.entity.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User]), AuditModule],
  providers: [UsersService, UsersRepository, PasswordHasher, AdminBootstrap],
  exports: [UsersService, UsersRepository, PasswordHasher],
})
export class UsersModule {}
