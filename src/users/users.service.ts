import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ApiError } from '../common/errors/api-error.js';
import { toPage, type Page } from '../common/pagination.js';
import { toAdminUserResponse, type AdminUserResponseDto } from './admin-user-response.dto.js';
import { PasswordHasher } from './password-hasher.service.js';
import { User } from './user.entity.js';
import { ADMIN_ROLE, UsersRepository } from './users.repository.js';

export type AdminCreation = 'created' | 'admin_exists' | 'email_taken';

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly passwords: PasswordHasher,
    private readonly users: UsersRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * Creates an account with the default role; a taken email is a 409, decided by the unique index.
   * @param email already in canonical form (see normalizeEmail)
   * @param onCreated what commits with the account (the verification mail)
   */
  async register(email: string, password: string, onCreated?: (manager: EntityManager, user: User) => Promise<void>): Promise<User> {
    const passwordHash = await this.passwords.hash(password);
    return this.dataSource.transaction(async (manager) => {
      const user = await this.users.insert(manager, { email, passwordHash });
      if (user === 'email_taken') throw ApiError.conflict('An account with this email already exists');
      await onCreated?.(manager, user);
      return user;
    });
  }

  /** @param email already in canonical form (see normalizeEmail) */
  findByEmail(email: string): Promise<User | null> {
    return this.users.findByEmail(email);
  }

  findById(id: string): Promise<User | null> {
    return this.users.findById(id);
  }

  /**
   * Replaces a hash by a new one of the same password (a rehash), only while `previous` is still
   * the account's: a password changed or reset meanwhile is never overwritten by the old one.
   * @returns whether it was replaced
   */
  setPasswordHash(id: string, passwordHash: string, previous: string): Promise<boolean> {
    return this.users.replacePasswordHash(id, passwordHash, previous);
  }

  /** In email order; `emailPrefix` matches literally (no wildcards). */
  async list(query: { limit: number; cursor?: string; emailPrefix?: string }): Promise<Page<AdminUserResponseDto>> {
    return toPage(await this.users.page(query), query.limit, (user) => [user.email], toAdminUserResponse);
  }

  exists(id: string): Promise<boolean> {
    return this.users.exists(id);
  }

  /**
   * Creates an admin account (the CLI, or BOOTSTRAP_ADMIN_* at start). An existing account is
   * never promoted: whoever registered that email first would become admin with their password.
   * @param email already in canonical form (see normalizeEmail)
   */
  async createAdmin(email: string, password: string, options: { onlyIfNoAdmin: boolean; via: string }): Promise<AdminCreation> {
    const passwordHash = await this.passwords.hash(password);
    return this.dataSource.transaction(async (manager) => {
      await this.users.lockAdminCreation(manager);
      if (options.onlyIfNoAdmin && (await this.users.lockWithActiveAdmins(manager, [])).length > 0) return 'admin_exists';
      const admin = await this.users.insert(manager, { email, passwordHash, roles: ['user', ADMIN_ROLE], emailVerified: true });
      if (admin === 'email_taken') return 'email_taken';
      await this.audit.record({ type: 'admin_created', userId: admin.id, details: { via: options.via } }, manager);
      this.logger.log(`Created admin ${admin.id} (${options.via})`);
      return 'created';
    });
  }
}
