import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository, type EntityManager } from 'typeorm';
import { decodeCursor } from '../common/pagination.js';
import { User } from './user.entity.js';

const UNIQUE_VIOLATION = '23505';
// Names "the admin-creation lock" in pg_locks: replicas bootstrapping together create one admin.
const ADMIN_CREATION_LOCK_KEY = 0x61646d6e; // "admn"

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

export const ADMIN_ROLE = 'admin';

/** A user row as an admin change reads it, under lock. */
export type LockedUser = Pick<User, 'id' | 'email' | 'roles' | 'disabled' | 'tokenGeneration'>;

export const isActiveAdmin = (user: Pick<User, 'roles' | 'disabled'>): boolean => user.roles.includes(ADMIN_ROLE) && !user.disabled;

/** The user rows: look-ups, inserts, and the locked reads and writes admin decisions are made on. */
@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  /**
   * The unique index, not a prior look-up, decides a taken email, so two concurrent inserts of one
   * address cannot both succeed.
   * @returns the new user, or 'email_taken'
   */
  async insert(
    manager: EntityManager,
    fields: Pick<User, 'email' | 'passwordHash'> & Partial<Pick<User, 'roles' | 'emailVerified'>>,
  ): Promise<User | 'email_taken'> {
    try {
      // A savepoint, so a taken email leaves the caller's transaction usable.
      return await manager.transaction((savepoint) => savepoint.save(savepoint.create(User, fields)));
    } catch (error) {
      if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === UNIQUE_VIOLATION) return 'email_taken';
      throw error;
    }
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email });
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  exists(id: string): Promise<boolean> {
    return this.users.existsBy({ id });
  }

  /** @returns whether `previous` was still the hash, and so was replaced */
  async replacePasswordHash(id: string, passwordHash: string, previous: string): Promise<boolean> {
    const result = await this.users.update({ id, passwordHash: previous }, { passwordHash });
    return (result.affected ?? 0) > 0;
  }

  /** One page in email order, one row more than `limit` to tell whether another follows; the prefix matches literally. */
  page(query: { limit: number; cursor?: string; emailPrefix?: string }): Promise<User[]> {
    const builder = this.users
      .createQueryBuilder('user')
      .orderBy('user.email', 'ASC')
      .take(query.limit + 1);
    if (query.emailPrefix !== undefined) {
      builder.andWhere(`user.email LIKE :prefix ESCAPE '\\'`, { prefix: `${escapeLike(query.emailPrefix)}%` });
    }
    if (query.cursor !== undefined) builder.andWhere('user.email > :after', { after: decodeCursor(query.cursor, 1)[0] });
    return builder.getMany();
  }

  /** Serialises admin creation across replicas for the rest of the caller's transaction. */
  async lockAdminCreation(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_CREATION_LOCK_KEY]);
  }
  /**
   * Locks (FOR UPDATE) the named users and every active admin, always in id order, so any two
   * admin changes queue on their first common row instead of deadlocking. Logins and refreshes
   * hold the user's row in KEY SHARE while they issue, so they wait for the change, and the change
   * waits for them.
   */
  async lockWithActiveAdmins(manager: EntityManager, ids: readonly string[]): Promise<LockedUser[]> {
    const rows = (await manager.query(
      `SELECT id, email, roles, disabled, token_generation AS "tokenGeneration" FROM users
       WHERE id = ANY($1::uuid[]) OR ($2 = ANY(roles) AND NOT disabled)
       ORDER BY id FOR UPDATE`,
      [ids, ADMIN_ROLE],
    )) as LockedUser[];
    return rows;
  }

  async update(manager: EntityManager, id: string, changes: Pick<User, 'roles' | 'disabled'>): Promise<void> {
    await manager.update(User, { id }, changes);
  }
}
