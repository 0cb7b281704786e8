import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, QueryFailedError, Repository, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ApiError } from '../common/errors/api-error.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { toAdminUserResponse, type AdminUserResponseDto } from './admin-user-response.dto.js';
import { PasswordHasher } from './password-hasher.service.js';
import { User } from './user.entity.js';
import { ADMIN_ROLE, UsersRepository } from './users.repository.js';

const UNIQUE_VIOLATION = '23505';
// Names "the admin-creation lock" in pg_locks: replicas bootstrapping together create one admin.
const ADMIN_CREATION_LOCK_KEY = 0x61646d6e; // "admn"

function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string }).code === UNIQUE_VIOLATION;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);
export type AdminCreation = 'created' | 'admin_exists' | 'email_taken';

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly passwords: PasswordHasher,
    private readonly usersRepository: UsersRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * Creates an account with the default role. The unique index, not a prior look-up, decides a
   * taken email, so two concurrent registrations of one address cannot both succeed.
   * @param email already in canonical form (see normalizeEmail)
   */
  async register(email: string, password: string, onCreated?: (manager: EntityManager, user: User) => Promise<void>): Promise<User> {
    const passwordHash = await this.passwords.hash(password);
    try {
      // With onCreated (the verification mail), the account and what it writes commit together.
      return await this.dataSource.transaction(async (manager) => {
        const user = await manager.save(manager.create(User, { email, passwordHash }));
        await onCreated?.(manager, user);
        return user;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw ApiError.conflict('An account with this email already exists');
      throw error;
    }
  }

  /** @param email already in canonical form (see normalizeEmail) */
  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email });
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  /**
   * Replaces a hash by a new one of the same password (a rehash), only while `previous` is still
   * the account's: a password changed or reset meanwhile is never overwritten by the old one.
   * @returns whether it was replaced
   */
  async setPasswordHash(id: string, passwordHash: string, previous: string): Promise<boolean> {
    const result = await this.users.update({ id, passwordHash: previous }, { passwordHash });
    return (result.affected ?? 0) > 0;
  }

  /** In email order; `emailPrefix` matches literally (no wildcards). */
  async list(query: { limit: number; cursor?: string; emailPrefix?: string }): Promise<Page<AdminUserResponseDto>> {
    const builder = this.users
      .createQueryBuilder('user')
      .orderBy('user.email', 'ASC')
      .take(query.limit + 1);
    if (query.emailPrefix !== undefined) {
      builder.andWhere(`user.email LIKE :prefix ESCAPE '\\'`, { prefix: `${escapeLike(query.emailPrefix)}%` });
    }
    if (query.cursor !== undefined) builder.andWhere('user.email > :after', { after: decodeCursor(query.cursor, 1)[0] });
    return toPage(await builder.getMany(), query.limit, (user) => [user.email], toAdminUserResponse);
  }

  async exists(id: string): Promise<boolean> {
    return this.users.existsBy({ id });
  }

  /**
   * Creates an admin account (the CLI, or BOOTSTRAP_ADMIN_* at start). An existing account is
   * never promoted: whoever registered that email first would become admin with their password.
   * @param email already in canonical form (see normalizeEmail)
   */
  async createAdmin(email: string, password: string, options: { onlyIfNoAdmin: boolean; via: string }): Promise<AdminCreation> {
    const passwordHash = await this.passwords.hash(password);
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_CREATION_LOCK_KEY]);
      if (options.onlyIfNoAdmin && (await this.usersRepository.lockWithActiveAdmins(manager, [])).length > 0) return 'admin_exists';
      if (await manager.existsBy(User, { email })) return 'email_taken';
      const admin = await manager.save(manager.create(User, { email, passwordHash, roles: ['user', ADMIN_ROLE], emailVerified: true }));
      await this.audit.record({ type: 'admin_created', userId: admin.id, details: { via: options.via } }, manager);
      this.logger.log(`Created admin ${admin.id} (${options.via})`);
      return 'created';
    });
  }
}
